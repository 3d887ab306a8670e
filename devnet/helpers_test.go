package devnet_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
)

var shared = sync.OnceValues(func() (*devnet.Devnet, error) { return devnet.New(devnet.Config{}) })

// testDevnet is the default devnet, generated once for all tests.
func testDevnet(t *testing.T) *devnet.Devnet {
	t.Helper()
	d, err := shared()
	require.NoError(t, err)
	return d
}
