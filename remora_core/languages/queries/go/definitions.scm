; Remora nodes of a Go file: funcs, methods, struct and interface types (types declared inside
; a function body are dropped by languages/go.py: only top-level declarations are nodes).
(function_declaration name: (identifier) @name) @function
(method_declaration receiver: (parameter_list) @receiver name: (field_identifier) @name) @method
(type_declaration (type_spec name: (type_identifier) @name type: [(struct_type) (interface_type)]) @class)
