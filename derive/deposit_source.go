package derive

import (
	"encoding/binary"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Source hashes of deposited transactions (specs/protocol/deposits.md "Source hash computation"): the hash
// of a domain word and of the data identifying the deposit, so that deposits of different kinds never
// collide.
const (
	// DepositSourceDomainUser is the domain of user deposits: keccak256(l1BlockHash ++ bytes32(logIndex)).
	DepositSourceDomainUser = 0
	// DepositSourceDomainL1Info is the domain of L1 attributes deposits:
	// keccak256(l1BlockHash ++ bytes32(sequenceNumber)).
	DepositSourceDomainL1Info = 1
	// DepositSourceDomainUpgrade is the domain of network upgrade transactions: keccak256(intent).
	DepositSourceDomainUpgrade = 2
)

// depositSourceHashOf hashes the domain word with the 32-byte deposit identity.
func depositSourceHashOf(domain uint64, id common.Hash) common.Hash {
	var buf [64]byte
	binary.BigEndian.PutUint64(buf[24:32], domain)
	copy(buf[32:], id[:])
	return crypto.Keccak256Hash(buf[:])
}

// depositSourceHash is the source hash of a deposit identified by an L1 block hash and a number (log
// index or sequence number).
func depositSourceHash(domain uint64, l1Hash common.Hash, n uint64) common.Hash {
	var buf [64]byte
	copy(buf[:32], l1Hash[:])
	binary.BigEndian.PutUint64(buf[56:], n)
	return depositSourceHashOf(domain, crypto.Keccak256Hash(buf[:]))
}

// UserDepositSourceHash is the source hash of the user deposit emitted by the log at logIndex (block-wide)
// of L1 block l1Hash.
func UserDepositSourceHash(l1Hash common.Hash, logIndex uint64) common.Hash {
	return depositSourceHash(DepositSourceDomainUser, l1Hash, logIndex)
}

// UpgradeDepositSourceHash is the source hash of a network upgrade transaction with the given intent.
func UpgradeDepositSourceHash(intent string) common.Hash {
	return depositSourceHashOf(DepositSourceDomainUpgrade, crypto.Keccak256Hash([]byte(intent)))
}
