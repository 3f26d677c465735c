package protocol_test

import (
	"fmt"

	"github.com/forgeauth/authstore/protocol"
)

func ExampleS256Challenge() {
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 Appendix B
	challenge := protocol.S256Challenge(verifier)
	fmt.Println(challenge, protocol.VerifyS256(challenge, verifier))
	// Output: E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM true
}
