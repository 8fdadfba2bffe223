; Call sites: a plain name (F, T(x)) or a dotted one (pkg.F, recv.M, x.M).
(call_expression function: [(identifier) (selector_expression)] @callee)
