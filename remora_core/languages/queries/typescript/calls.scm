; Call sites: the callee as written (identifier or member chain); `new C()` calls the class.
(call_expression function: [(identifier) (member_expression)] @callee)
(new_expression constructor: [(identifier) (member_expression)] @callee)
