package preimage

// Exit codes of the fault proof program: its verdict on the claim (0 valid, 1 invalid), or 2 for a failure
// to reach one. The host exits with the program's code and the VM turns it into the state's status, so
// every non-verdict exits 2 and a broken setup can never read as an invalid claim.
const (
	ExitValid   = 0
	ExitInvalid = 1
	ExitFailure = 2
)
