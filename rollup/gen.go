package rollup

// The registry of public chains (registry_gen.go) is generated from the superchain registry data that
// kona keeps in the optimism module. To refresh it, raise the version here (or pass -source) and run
// 'go generate ./rollup'.
//go:generate go run ./internal/registrygen -module github.com/ethereum-optimism/optimism@v1.19.6 -out registry_gen.go
