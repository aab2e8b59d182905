//! The shared SQL lexer: one linear, non-recursive tokenizer for every dialect dbguru
//! speaks ([`lexer`]), and the bounds every statement is held to before anything
//! recursive (sqlparser's parser, its visitors, printing, dropping the tree) touches it
//! ([`limits`]), and quoting for each dialect ([`quote`]).
//!
//! Nothing here allocates per token or recurses, so it is safe on any input: a statement
//! of any size is scanned in time linear in its length on a fixed amount of stack.

pub mod lexer;
pub mod limits;
pub mod quote;
