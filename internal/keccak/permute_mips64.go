package keccak

//go:generate go run gen_mips64.go

// permuteAsm and permuteDigestAsm are Keccak-f[1600] in assembly (permute_mips64.s, written by
// gen_mips64.go); scratch is their second state buffer. permuteDigestAsm leaves only lanes 0..3 right.
//
//go:noescape
func permuteAsm(a, scratch *[25]uint64, rc *[24]uint64)

//go:noescape
func permuteDigestAsm(a, scratch *[25]uint64, rc *[24]uint64)

func permute(a *[25]uint64) {
	var scratch [25]uint64
	permuteAsm(a, &scratch, &rc)
}

func permuteDigest(a *[25]uint64) {
	var scratch [25]uint64
	permuteDigestAsm(a, &scratch, &rc)
}
