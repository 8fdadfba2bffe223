; Local variables whose type a call through them may reveal (x := T{}, var x T, x := &T{}, new(T)).
(var_spec) @var
(short_var_declaration) @short
