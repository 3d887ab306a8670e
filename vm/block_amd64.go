//go:build amd64 && !purego

package vm

// useAsm selects the assembly block executor; tests turn it off to check runOps.
var useAsm = true

// asmBuilt tells whether this build has the assembly block executor.
const asmBuilt = true

// runBlockAsm runs f's block and the blocks that follow until one that cannot follow or an op it leaves
// to Go (block_amd64.s).
//
//go:noescape
func runBlockAsm(f *asmFrame)
