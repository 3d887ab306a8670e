package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/faultproof/faultproof/rollup"
)

// chainConfigFlag collects the values of --chain-config, one chain each (ROLLUP.json,GENESIS.json[,L1.json]).
// A slice flag would split the value at its commas.
type chainConfigFlag []string

func (f *chainConfigFlag) Set(v string) error { *f = append(*f, v); return nil }
func (f *chainConfigFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(*f, " ")
}

// customChain is a chain to build into the program, as checked and as it is embedded.
type customChain struct {
	configs *rollup.ChainConfigs
	// The configs as the program decodes them: canonical JSON of what was parsed. l1JSON is empty for a
	// well-known L1, whose config the program has.
	rollupJSON, l2JSON, l1JSON []byte
}

func (c *customChain) chainID() uint64 { return c.configs.Rollup.ChainID() }

// sourceRegistry is the chain registry of the checkout the program is built from (its
// rollup/registry_gen.go), which may differ from this binary's.
type sourceRegistry struct {
	version string
	chains  map[uint64]string // chain ID -> name
}

// readSourceRegistry reads the registry version and chain IDs from src/rollup/registry_gen.go.
func readSourceRegistry(src string) (*sourceRegistry, error) {
	path := filepath.Join(src, "rollup", "registry_gen.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("read the checkout's chain registry: %w", err)
	}
	reg := &sourceRegistry{chains: map[uint64]string{}}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gen.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 {
				continue
			}
			switch vs.Names[0].Name {
			case "RegistryVersion":
				if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
					reg.version, _ = strconv.Unquote(lit.Value)
				}
			case "registryNetworks":
				list, ok := vs.Values[0].(*ast.CompositeLit)
				if !ok {
					continue
				}
				for _, elt := range list.Elts {
					id, name := networkLiteral(elt)
					if id != 0 {
						reg.chains[id] = name
					}
				}
			}
		}
	}
	if reg.version == "" || len(reg.chains) == 0 {
		return nil, fmt.Errorf("%s: no RegistryVersion or registryNetworks", path)
	}
	return reg, nil
}

// networkLiteral reads the ChainID and Name fields of a Network composite literal.
func networkLiteral(e ast.Expr) (uint64, string) {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return 0, ""
	}
	var id uint64
	var name string
	for _, elt := range lit.Elts {
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, ok := kv.Key.(*ast.Ident)
		val, isLit := kv.Value.(*ast.BasicLit)
		if !ok || !isLit {
			continue
		}
		switch key.Name {
		case "ChainID":
			id, _ = strconv.ParseUint(val.Value, 10, 64)
		case "Name":
			name, _ = strconv.Unquote(val.Value)
		}
	}
	return id, name
}

// loadCustomChains reads and checks the --chain-config values: each file parses (the rollup config as the
// program checks it), the chain IDs of a chain's files agree, each chain ID appears once, and none is a
// registry chain (a build that replaced a registry chain's rules would give its chain ID two meanings, so
// it is refused, as op-program refuses it).
func loadCustomChains(specs []string, reg *sourceRegistry) ([]*customChain, error) {
	var chains []*customChain
	seen := map[uint64]string{}
	for _, spec := range specs {
		files := strings.Split(spec, ",")
		if len(files) < 2 || len(files) > 3 {
			return nil, fmt.Errorf("--chain-config %q: want ROLLUP.json,GENESIS.json[,L1GENESIS.json]", spec)
		}
		for _, f := range files {
			if strings.TrimSpace(f) == "" {
				return nil, fmt.Errorf("--chain-config %q: empty file name", spec)
			}
		}
		c, err := loadCustomChain(files)
		if err != nil {
			return nil, fmt.Errorf("--chain-config %s: %w", spec, err)
		}
		id := c.chainID()
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("--chain-config %s: chain %d is already given by --chain-config %s", spec, id, prev)
		}
		if name, ok := reg.chains[id]; ok {
			return nil, fmt.Errorf("--chain-config %s: chain %d is %s of the chain registry; a custom config cannot replace it", spec, id, name)
		}
		seen[id] = spec
		chains = append(chains, c)
	}
	sort.Slice(chains, func(i, j int) bool { return chains[i].chainID() < chains[j].chainID() })
	return chains, nil
}

func loadCustomChain(files []string) (*customChain, error) {
	var c customChain
	configs := &rollup.ChainConfigs{}
	var err error
	if configs.Rollup, err = rollup.LoadConfig(files[0]); err != nil {
		return nil, err
	}
	if configs.L2, err = rollup.LoadChainConfig(files[1]); err != nil {
		return nil, err
	}
	if len(files) == 3 {
		if configs.L1, err = rollup.LoadChainConfig(files[2]); err != nil {
			return nil, err
		}
	} else if configs.L1, err = rollup.L1ChainConfig(configs.Rollup.L1ChainID.Uint64()); err != nil {
		return nil, fmt.Errorf("L1 chain %v is not a well-known L1: give its genesis as a third file", configs.Rollup.L1ChainID)
	}
	if err := configs.Check(); err != nil {
		return nil, err
	}
	c.configs = configs
	if c.rollupJSON, err = json.Marshal(configs.Rollup); err != nil {
		return nil, err
	}
	if c.l2JSON, err = json.Marshal(configs.L2); err != nil {
		return nil, err
	}
	if len(files) == 3 {
		if c.l1JSON, err = json.Marshal(configs.L1); err != nil {
			return nil, err
		}
	}
	// The program decodes what is embedded: it must come out as what was checked here.
	again, err := rollup.ParseChainConfigs(c.rollupJSON, c.l2JSON, c.l1JSON)
	if err != nil {
		return nil, fmt.Errorf("the embedded form does not decode: %w", err)
	}
	if !reflect.DeepEqual(again, configs) {
		return nil, errors.New("the embedded form does not decode to the same configs")
	}
	return &c, nil
}

// builtInChainsSource is the Go source that replaces rollup/builtin_chains.go in the program's build: the
// chains' configs as JSON string constants, decoded only for the chain the program is asked about.
func builtInChainsSource(chains []*customChain) ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("// Code generated by 'faultproof prestate --chain-config'; DO NOT EDIT.")
	p("// It replaces %s in the program's build (go build -overlay).", rollup.BuiltInChainsFile)
	p("")
	p("package rollup")
	p("")
	p("// BuiltInChainsFile is the path of the file this one replaces.")
	p("const BuiltInChainsFile = %q", rollup.BuiltInChainsFile)
	p("")
	p("func builtInChain(chainID uint64) (rollupJSON, l2JSON, l1JSON string, ok bool) {")
	p("\tswitch chainID {")
	for _, c := range chains {
		p("\tcase %d:", c.chainID())
		p("\t\treturn %s,\n%s,\n%s, true", strconv.Quote(string(c.rollupJSON)), strconv.Quote(string(c.l2JSON)), strconv.Quote(string(c.l1JSON)))
	}
	p("\t}")
	p("\treturn \"\", \"\", \"\", false")
	p("}")
	p("")
	ids := make([]string, len(chains))
	for i, c := range chains {
		ids[i] = strconv.FormatUint(c.chainID(), 10)
	}
	p("func builtInChainIDs() []uint64 { return []uint64{%s} }", strings.Join(ids, ", "))
	return format.Source(b.Bytes())
}

// writeBuiltInChainsOverlay writes the replacement of rollup/builtin_chains.go into dir and an overlay
// file for 'go build -overlay' that puts it in place of the checkout src's file. It returns the overlay
// file's path.
func writeBuiltInChainsOverlay(src, dir string, chains []*customChain) (string, error) {
	code, err := builtInChainsSource(chains)
	if err != nil {
		return "", fmt.Errorf("generate the built-in chains: %w", err)
	}
	target, err := filepath.Abs(filepath.Join(src, filepath.FromSlash(rollup.BuiltInChainsFile)))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(target); err != nil {
		return "", fmt.Errorf("the checkout has no %s to replace: %w", rollup.BuiltInChainsFile, err)
	}
	replacement, err := filepath.Abs(filepath.Join(dir, "builtin_chains.go"))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(replacement, code, 0o644); err != nil {
		return "", err
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {target: replacement}})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, overlay, 0o644)
}
