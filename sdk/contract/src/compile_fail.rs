//! What the macros refuse, as `compile_fail` doctests (each block is one mistake).
//!
//! A method taking `self` by value:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { pub fn m(self) {} }
//! ```
//! `#[init]` on a private method:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { #[init] fn init(&mut self) {} }
//! ```
//! Two constructors:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { #[init] pub fn a(&mut self) {} #[init] pub fn b(&mut self) {} }
//! ```
//! Two migrations, a payable migration, or a method named `migrate` that is not the migration:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { #[migrate] pub fn a(&mut self) {} #[migrate] pub fn b(&mut self) {} }
//! ```
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { #[migrate] #[payable] pub fn m(&mut self) {} }
//! ```
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { pub fn migrate(&mut self) {} }
//! ```
//! A method named `init` that is not the constructor, or one with the reserved prefix:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { pub fn init(&mut self) {} }
//! ```
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { pub fn __weft_x(&mut self) {} }
//! ```
//! A generic method, or an argument pattern instead of a name:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { pub fn m<T>(&self, _t: T) {} }
//! ```
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C {}
//! #[contract] impl C { pub fn m(&self, (a, b): (u8, u8)) {} }
//! ```
//! An argument type without an ABI description:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[derive(Encode, Decode)] pub struct NoAbi(u8);
//! #[storage] pub struct C {}
//! #[contract] impl C { pub fn m(&self, _x: NoAbi) {} }
//! ```
//! A storage field that is not a collection:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[storage] pub struct C { n: u64 }
//! ```
//! Four indexed event fields:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[derive(Event)]
//! pub struct E { #[indexed] a: u8, #[indexed] b: u8, #[indexed] c: u8, #[indexed] d: u8 }
//! ```
//! Encodings the ABI cannot describe:
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[derive(Encode, Decode, AbiType)]
//! pub enum E { #[codec(index = 5)] A }
//! ```
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[derive(Encode, Decode, AbiType)]
//! pub struct S { #[codec(compact)] n: u64 }
//! ```
//! ```compile_fail
//! use weft_contract::prelude::*;
//! #[derive(Encode, Decode, AbiType)]
//! pub struct S<T> { t: T }
//! ```
//! Two different types with the same name in one ABI (refused while the ABI is evaluated):
//! ```compile_fail
//! use weft_contract::prelude::*;
//! mod a { use weft_contract::prelude::*; #[derive(Encode, Decode, AbiType)] pub struct T(pub u8); }
//! mod b { use weft_contract::prelude::*; #[derive(Encode, Decode, AbiType)] pub struct T(pub u16); }
//! #[storage] pub struct C {}
//! #[contract] impl C { pub fn m(&self, _x: a::T, _y: b::T) {} }
//! ```
//! The same code without the mistake compiles:
//! ```
//! use weft_contract::prelude::*;
//! mod a { use weft_contract::prelude::*; #[derive(Encode, Decode, AbiType)] pub struct T(pub u8); }
//! #[derive(Event)]
//! pub struct E { #[indexed] a: u8, #[indexed] b: u8, #[indexed] c: u8, d: u8 }
//! #[storage] pub struct C { n: Item<u64> }
//! #[contract(events = [E])] impl C { pub fn m(&self, _x: a::T, _y: a::T) {} }
//! ```
