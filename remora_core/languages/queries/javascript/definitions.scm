; Definitions that become Remora nodes (remora_core/languages/js_extract.py filters and nests them).
(function_declaration name: (identifier) @name) @def
(generator_function_declaration name: (identifier) @name) @def
(class_declaration name: (identifier) @name) @def
(method_definition name: (_) @name) @def
(field_definition
  property: (_) @name
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
