// Command bigint is a guest program for the vm tests: math/big arithmetic
// (factorials, Fibonacci numbers, modular exponentiation and inverses, GCDs,
// square roots, division, rationals and primality tests). It prints a
// SHA-256 checksum of the results and a few of them, and exits with code 0.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory
// mappings with prctl(PR_SET_VMA), a syscall Cannon does not implement (the
// VM would stop with an unrecognized syscall).
//
//go:debug decoratemappings=0
package main

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"os"
)

func main() {
	h := sha256.New()
	add := func(x *big.Int) { h.Write(x.Bytes()) }

	// 300!
	fact := big.NewInt(1)
	for i := int64(2); i <= 300; i++ {
		fact.Mul(fact, big.NewInt(i))
	}
	add(fact)

	// F(2000)
	a, b := big.NewInt(0), big.NewInt(1)
	for i := 0; i < 2000; i++ {
		a.Add(a, b)
		a, b = b, a
	}
	add(a)

	// Modular arithmetic modulo the secp256k1 field prime.
	p, _ := new(big.Int).SetString("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f", 16)
	x := new(big.Int).Exp(big.NewInt(3), big.NewInt(1_000_003), p)
	add(x)
	inv := new(big.Int).ModInverse(x, p)
	check := new(big.Int).Mod(new(big.Int).Mul(x, inv), p)
	add(inv)
	sq := new(big.Int).ModSqrt(big.NewInt(4), p)
	add(sq)

	// GCD, division and square roots of large numbers.
	g := new(big.Int).GCD(nil, nil, fact, new(big.Int).Exp(big.NewInt(6), big.NewInt(400), nil))
	add(g)
	q, r := new(big.Int).QuoRem(fact, a, new(big.Int))
	add(q)
	add(r)
	add(new(big.Int).Sqrt(fact))

	// Rationals: the harmonic number H(200).
	hn := new(big.Rat)
	for i := int64(1); i <= 200; i++ {
		hn.Add(hn, big.NewRat(1, i))
	}
	add(hn.Num())
	add(hn.Denom())

	// Primes among 2^127-1 and its neighbours.
	m127 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
	primes := 0
	for d := int64(-4); d <= 4; d++ {
		if new(big.Int).Add(m127, big.NewInt(d)).ProbablyPrime(10) {
			primes++
		}
	}

	fmt.Printf("fact300bits=%d fib2000bits=%d inverse=%v primes=%d sha256=%x\n",
		fact.BitLen(), a.BitLen(), check.Cmp(big.NewInt(1)) == 0, primes, h.Sum(nil))
	os.Exit(0)
}
