; Remora nodes of a Go file: top-level funcs, methods, struct and interface types.
(source_file (function_declaration name: (identifier) @name) @function)
(source_file (method_declaration receiver: (parameter_list) @receiver name: (field_identifier) @name) @method)
(source_file (type_declaration (type_spec name: (type_identifier) @name type: [(struct_type) (interface_type)]) @class))
