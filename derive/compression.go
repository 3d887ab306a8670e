package derive

import "fmt"

// CompressionAlgo is how a channel's batches are compressed (specs/protocol/derivation.md "Channel Format",
// fjord/derivation.md "Brotli Channel Compression").
type CompressionAlgo uint8

const (
	// Zlib is the legacy channel format: a bare RFC-1950 zlib stream, recognized by its first byte.
	Zlib CompressionAlgo = iota + 1
	// Brotli is the Fjord versioned format with channel_version_byte 1: the version byte, then an RFC-7932
	// brotli stream.
	Brotli
)

func (a CompressionAlgo) String() string {
	switch a {
	case Zlib:
		return "zlib"
	case Brotli:
		return "brotli"
	}
	return fmt.Sprintf("compression(%d)", uint8(a))
}

const (
	// ChannelVersionBrotli is the channel_version_byte of brotli-compressed channels.
	ChannelVersionBrotli = 0x01

	// The compression methods a zlib header's low nibble can carry (RFC-1950: 8 is deflate, 15 is
	// reserved). A channel whose first byte has either is in the legacy zlib format; versioned formats
	// never use them.
	zlibCM8  = 8
	zlibCM15 = 15
)

// isZlibHeaderByte reports whether a channel starting with b is in the legacy (zlib) format.
func isZlibHeaderByte(b byte) bool {
	cm := b & 0x0f
	return cm == zlibCM8 || cm == zlibCM15
}
