package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// The registry files, in kona's format (rust/kona/crates/protocol/registry/etc in the optimism repository).
const (
	configsFile   = "configs.json"   // the chains, grouped by superchain
	chainListFile = "chainList.json" // identifiers ("mainnet/op") and fault proof status
	depsetsFile   = "depsets.json"   // interop dependency sets
)

// registryFile is configs.json. Every field is declared and unknown ones are refused, so that a field a
// newer registry adds stops generation instead of being dropped without a word. Only the contract
// addresses and roles, which derivation does not read (but two addresses), are taken as open maps.
type registryFile struct {
	Superchains []superchain `json:"superchains"`
}

type superchain struct {
	Name   string `json:"name"`
	Config struct {
		Name string `json:"name"`
		L1   struct {
			ChainID   uint64 `json:"chain_id"`
			PublicRPC string `json:"public_rpc"`
			Explorer  string `json:"explorer"`
		} `json:"l1"`
		Hardforks                   hardforks       `json:"hardforks"`
		SuperchainConfigAddr        *common.Address `json:"superchain_config_addr"`
		OpContractsManagerProxyAddr *common.Address `json:"op_contracts_manager_proxy_addr"`
	} `json:"config"`
	Chains []chain `json:"chains"`
}

type chain struct {
	Name                 string                     `json:"Name"`
	PublicRPC            string                     `json:"PublicRPC"`
	SequencerRPC         string                     `json:"SequencerRPC"`
	Explorer             string                     `json:"Explorer"`
	GovernedByOptimism   bool                       `json:"GovernedByOptimism"`
	SuperchainTime       *uint64                    `json:"SuperchainTime"`
	DataAvailabilityType string                     `json:"DataAvailabilityType"`
	ChainID              uint64                     `json:"l2_chain_id"`
	BatchInboxAddress    common.Address             `json:"batch_inbox_address"`
	BlockTime            uint64                     `json:"block_time"`
	SeqWindowSize        uint64                     `json:"seq_window_size"`
	MaxSequencerDrift    uint64                     `json:"max_sequencer_drift"`
	GasPayingToken       *common.Address            `json:"GasPayingToken"`
	Hardforks            hardforks                  `json:"hardfork_configuration"`
	Optimism             *eip1559Config             `json:"optimism"`
	AltDA                *altDA                     `json:"alt_da"`
	Genesis              genesis                    `json:"genesis"`
	Roles                map[string]*common.Address `json:"Roles"`
	Addresses            map[string]*common.Address `json:"Addresses"`
	Interop              *struct {
		Dependencies map[string]struct{} `json:"dependencies"`
	} `json:"interop"`
}

type hardforks struct {
	RegolithTime           *uint64 `json:"regolith_time"`
	CanyonTime             *uint64 `json:"canyon_time"`
	DeltaTime              *uint64 `json:"delta_time"`
	EcotoneTime            *uint64 `json:"ecotone_time"`
	FjordTime              *uint64 `json:"fjord_time"`
	GraniteTime            *uint64 `json:"granite_time"`
	HoloceneTime           *uint64 `json:"holocene_time"`
	PectraBlobScheduleTime *uint64 `json:"pectra_blob_schedule_time"`
	IsthmusTime            *uint64 `json:"isthmus_time"`
	JovianTime             *uint64 `json:"jovian_time"`
	KarstTime              *uint64 `json:"karst_time"`
	KeepKarstUpgradeGas    bool    `json:"keep_karst_upgrade_gas"`
	LagoonTime             *uint64 `json:"lagoon_time"`
}

type eip1559Config struct {
	Elasticity        uint64  `json:"eip1559Elasticity"`
	Denominator       uint64  `json:"eip1559Denominator"`
	DenominatorCanyon *uint64 `json:"eip1559DenominatorCanyon"`
}

type altDA struct {
	ChallengeAddress *common.Address `json:"da_challenge_address"`
	ChallengeWindow  *uint64         `json:"da_challenge_window"`
	ResolveWindow    *uint64         `json:"da_resolve_window"`
	CommitmentType   *string         `json:"da_commitment_type"`
	MaxInputSize     *uint64         `json:"da_max_input_size"`
}

type blockRef struct {
	Number uint64      `json:"number"`
	Hash   common.Hash `json:"hash"`
}

type genesis struct {
	L1           blockRef `json:"l1"`
	L2           blockRef `json:"l2"`
	L2Time       uint64   `json:"l2_time"`
	SystemConfig struct {
		BatcherAddr          common.Address `json:"batcherAddr"`
		Overhead             common.Hash    `json:"overhead"`
		Scalar               common.Hash    `json:"scalar"`
		GasLimit             uint64         `json:"gasLimit"`
		BaseFeeScalar        *uint32        `json:"baseFeeScalar"`
		BlobBaseFeeScalar    *uint32        `json:"blobBaseFeeScalar"`
		EIP1559Denominator   *uint32        `json:"eip1559Denominator"`
		EIP1559Elasticity    *uint32        `json:"eip1559Elasticity"`
		OperatorFeeScalar    *uint32        `json:"operatorFeeScalar"`
		OperatorFeeConstant  *uint64        `json:"operatorFeeConstant"`
		MinBaseFee           *uint64        `json:"minBaseFee"`
		DAFootprintGasScalar *uint16        `json:"daFootprintGasScalar"`
	} `json:"system_config"`
}

// chainListEntry is the part of a chainList.json entry the index uses.
type chainListEntry struct {
	ChainID     uint64 `json:"chainId"`
	Identifier  string `json:"identifier"` // "<superchain>/<short name>"
	FaultProofs struct {
		Status string `json:"status"`
	} `json:"faultProofs"`
}

// depset is an entry of depsets.json.
type depset struct {
	Dependencies                map[string]struct{} `json:"dependencies"`
	OverrideMessageExpiryWindow *uint64             `json:"overrideMessageExpiryWindow"`
}

// source is the registry read from one directory.
type source struct {
	configs    registryFile
	chainList  map[uint64]chainListEntry
	depsets    []depset
	configsRaw []byte // configs.json as read, for its hash in the version string
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// readSource reads configs.json, chainList.json and (if present) depsets.json from dir.
func readSource(configsPath string) (*source, error) {
	dir := filepath.Dir(configsPath)
	var src source
	var err error
	if src.configsRaw, err = os.ReadFile(configsPath); err != nil {
		return nil, err
	}
	if err := decodeStrict(src.configsRaw, &src.configs); err != nil {
		return nil, fmt.Errorf("%s: %w", configsPath, err)
	}
	listData, err := os.ReadFile(filepath.Join(dir, chainListFile))
	if err != nil {
		return nil, fmt.Errorf("the chain names come from %s beside %s: %w", chainListFile, configsFile, err)
	}
	var list []chainListEntry
	if err := json.Unmarshal(listData, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", chainListFile, err)
	}
	src.chainList = make(map[uint64]chainListEntry, len(list))
	for _, e := range list {
		if _, dup := src.chainList[e.ChainID]; dup {
			return nil, fmt.Errorf("%s: chain %d listed twice", chainListFile, e.ChainID)
		}
		src.chainList[e.ChainID] = e
	}
	switch data, err := os.ReadFile(filepath.Join(dir, depsetsFile)); {
	case os.IsNotExist(err):
	case err != nil:
		return nil, err
	default:
		if err := decodeStrict(data, &src.depsets); err != nil {
			return nil, fmt.Errorf("%s: %w", depsetsFile, err)
		}
	}
	return &src, nil
}

// interopChains are the chains that share a dependency set with another chain: in depsets.json, or in
// the "interop" member of configs.json. A set of the chain alone (sepolia-devnet-2 declares one) is every
// chain's: not interop.
func (s *source) interopChains() map[uint64]bool {
	out := map[uint64]bool{}
	for _, d := range s.depsets {
		if len(d.Dependencies) < 2 {
			continue // every chain is its own dependency set of one: not interop
		}
		for id := range d.Dependencies {
			var n uint64
			if _, err := fmt.Sscan(id, &n); err == nil {
				out[n] = true
			}
		}
	}
	for _, sc := range s.configs.Superchains {
		for _, c := range sc.Chains {
			if c.Interop == nil {
				continue
			}
			for id := range c.Interop.Dependencies {
				if id != fmt.Sprint(c.ChainID) {
					out[c.ChainID] = true
				}
			}
		}
	}
	return out
}

// networkName is op-node's name of a chain: its short name and superchain ("op-mainnet"), from the
// chainList.json identifier "<superchain>/<short name>".
func networkName(identifier string) (string, error) {
	sc, short, ok := strings.Cut(identifier, "/")
	if !ok || sc == "" || short == "" || strings.Contains(short, "/") {
		return "", fmt.Errorf("chain identifier %q is not <superchain>/<name>", identifier)
	}
	return short + "-" + sc, nil
}

func sortedIDs[V any](m map[uint64]V) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
