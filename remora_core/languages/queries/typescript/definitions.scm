; Definitions that become Remora nodes (remora_core/languages/js_extract.py filters and nests them).
; Overload signatures, abstract methods and ambient declarations have no body: not nodes.
(function_declaration name: (identifier) @name) @def
(generator_function_declaration name: (identifier) @name) @def
(class_declaration name: (type_identifier) @name) @def
(abstract_class_declaration name: (type_identifier) @name) @def
(interface_declaration name: (type_identifier) @name) @def
(type_alias_declaration name: (type_identifier) @name) @def
(enum_declaration name: (identifier) @name) @def
(method_definition name: (_) @name) @def
(public_field_definition
  name: (_) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @def
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function) (class) (object)]) @def
(pair
  key: [(property_identifier) (string) (number)] @name
  value: [(arrow_function) (function_expression) (generator_function)]) @def
(export_statement
  value: [(arrow_function) (function_expression) (generator_function) (class) (object)]) @def
(assignment_expression
  left: (member_expression property: (property_identifier) @name)
  right: [(arrow_function) (function_expression) (generator_function) (class)]) @def
