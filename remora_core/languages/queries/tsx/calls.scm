; Call sites: the callee as written (identifier or member chain); `new C()` calls the class.
(call_expression function: [(identifier) (member_expression)] @callee)
(new_expression constructor: [(identifier) (member_expression)] @callee)
; A JSX element whose name is capitalised renders (calls) that component.
(jsx_opening_element name: [(identifier) (member_expression)] @callee)
(jsx_self_closing_element name: [(identifier) (member_expression)] @callee)
