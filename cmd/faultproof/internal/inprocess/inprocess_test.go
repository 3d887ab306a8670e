package inprocess

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
)

func TestVerdict(t *testing.T) {
	require.NoError(t, verdict(nil))
	for _, tc := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("block 7: %w", client.ErrClaimNotValid), preimage.ExitInvalid},
		{errors.New("missing preimage"), preimage.ExitFailure},
	} {
		var exitErr *host.ExitError
		require.ErrorAs(t, verdict(tc.err), &exitErr)
		require.Equal(t, tc.code, exitErr.Code)
		require.ErrorIs(t, exitErr, tc.err, "the program's error is kept")
	}
}
