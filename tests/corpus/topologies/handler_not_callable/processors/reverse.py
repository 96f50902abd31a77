# `handler` is a number here, not a function.
handler = 42
