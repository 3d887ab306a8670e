package keccak

//go:generate go run gen_mips64.go

// permuteAsm is Keccak-f[1600] in assembly (permute_mips64.s, written by gen_mips64.go); scratch is its
// second state buffer.
//
//go:noescape
func permuteAsm(a, scratch *[25]uint64, rc *[24]uint64)

func permute(a *[25]uint64) {
	var scratch [25]uint64
	permuteAsm(a, &scratch, &rc)
}
