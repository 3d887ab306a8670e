package rollup

// Protocol parameters that change with forks (specs: derivation.md and the per-fork pages).
const (
	MaxChannelBankSizeBedrock    = 100_000_000
	MaxChannelBankSizeFjord      = 1_000_000_000
	MaxRLPBytesPerChannelBedrock = 10_000_000
	MaxRLPBytesPerChannelFjord   = 100_000_000
	MaxSequencerDriftFjord       = 1800
	ChannelTimeoutGranite        = 50
)

// MaxChannelBankSize is the most channel data the pre-Holocene channel bank holds before pruning.
func (c *Config) MaxChannelBankSize(t uint64) uint64 {
	if c.IsFjord(t) {
		return MaxChannelBankSizeFjord
	}
	return MaxChannelBankSizeBedrock
}

// ChannelTimeout is the number of L1 blocks a channel may stay open, by L1 origin time t.
func (c *Config) ChannelTimeout(t uint64) uint64 {
	if c.IsGranite(t) {
		return ChannelTimeoutGranite
	}
	return c.ChannelTimeoutBedrock
}

// MaxRLPBytesPerChannel bounds the decompressed size of a channel.
func (c *Config) MaxRLPBytesPerChannel(t uint64) uint64 {
	if c.IsFjord(t) {
		return MaxRLPBytesPerChannelFjord
	}
	return MaxRLPBytesPerChannelBedrock
}

// MaxSequencerDriftAt is how far (seconds) an L2 block may run ahead of its L1 origin; a constant from Fjord.
func (c *Config) MaxSequencerDriftAt(t uint64) uint64 {
	if c.IsFjord(t) {
		return MaxSequencerDriftFjord
	}
	return c.MaxSequencerDrift
}
