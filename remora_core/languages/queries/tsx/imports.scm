; ES imports, exports (local lists, re-exports, default), CommonJS require and module.exports.
(import_statement) @import
(export_statement) @export
((call_expression
  function: (identifier) @fn
  arguments: (arguments . (string) .)) @require
  (#eq? @fn "require"))
(expression_statement
  (assignment_expression
    left: (member_expression) @lhs
    right: (identifier) @rhs)) @cjs_export
(import_require_clause) @import_require
