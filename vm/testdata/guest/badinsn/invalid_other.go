//go:build !mips64

package main

// invalid stands in for the MIPS64 instruction on other architectures.
func invalid() { panic("invalid instruction") }
