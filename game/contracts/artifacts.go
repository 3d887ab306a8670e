package contracts

import (
	"embed"
	"fmt"
	"sync"

	"github.com/faultproof/faultproof/vm/onchain"
)

// Names are the dispute contracts embedded in this package, each as <Name>.json (the format of
// vm/onchain's artifacts). MIPS64 and PreimageOracle come from vm/onchain.
var Names = []string{
	"FaultDisputeGame", "DisputeGameFactory", "AnchorStateRegistry", "DelayedWETH",
	"SystemConfig", "SuperchainConfig", "Proxy", "ProxyAdmin",
}

//go:embed *.json
var files embed.FS

var (
	artifactsOnce sync.Once
	artifacts     map[string]*onchain.Artifact
)

// Artifact returns the embedded contract name (one of Names, or MIPS64 and PreimageOracle from
// vm/onchain). It panics for another name: the set is fixed at build time.
func Artifact(name string) *onchain.Artifact {
	artifactsOnce.Do(func() {
		artifacts = map[string]*onchain.Artifact{"MIPS64": onchain.MIPS64(), "PreimageOracle": onchain.PreimageOracle()}
		for _, n := range Names {
			data, err := files.ReadFile(n + ".json")
			if err != nil {
				panic(fmt.Sprintf("contracts: embedded %s.json: %v", n, err))
			}
			a, err := onchain.ParseArtifact(data)
			if err != nil {
				panic(fmt.Sprintf("contracts: embedded %s.json: %v", n, err))
			}
			artifacts[n] = a
		}
	})
	a, ok := artifacts[name]
	if !ok {
		panic("contracts: no embedded contract " + name)
	}
	return a
}

// Provenance returns the embedded provenance.json: the sources, compiler settings and the hash of each
// creation code against the optimism release's semver-lock.json.
func Provenance() []byte {
	data, err := files.ReadFile("provenance.json")
	if err != nil {
		panic(err)
	}
	return data
}
