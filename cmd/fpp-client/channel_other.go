//go:build !mips64

package main

import (
	"io"

	"github.com/faultproof/faultproof/preimage"
)

func preimageChannel() io.ReadWriter { return preimage.ClientPreimageChannel() }
func hintChannel() io.ReadWriter     { return preimage.ClientHinterChannel() }
