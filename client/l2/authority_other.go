//go:build !faultproof_vm

package l2

// useOracleAuthorities does nothing outside the prestate's build: op-geth as it is recovers authorities
// itself (see authority_vm.go).
func useOracleAuthorities(PrecompileOracle) {}
