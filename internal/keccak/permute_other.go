//go:build !mips64

package keccak

func permute(a *[25]uint64)       { permuteGeneric(a) }
func permuteDigest(a *[25]uint64) { permuteGeneric(a) }
