package keccak

func permute(a *[25]uint64) { permuteGeneric(a) }
