package l2

import "github.com/faultproof/faultproof/rollup"

// Output is the version-0 output of an L2 block (rollup.Output), as Chain.OutputAt computes it.
type Output = rollup.Output

// UnmarshalOutput decodes a version-0 output.
func UnmarshalOutput(data []byte) (*Output, error) { return rollup.UnmarshalOutput(data) }
