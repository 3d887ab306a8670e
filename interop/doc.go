// Package interop holds the protocol facts of interop fault proofs (specs/interop/): super roots and the
// transition states between them, the step layout of one timestamp's transition, dependency sets, and the
// executing messages of the CrossL2Inbox with the rules that make them valid. It has no I/O: the program
// (client) decides claims with it, the host and the devnet build prestates and claims with it.
package interop
