package hooks_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/forgeauth/authstore/hooks"
)

func ExampleHasher_Verify() {
	h := hooks.DefaultHasher()
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$"))

	ok, err := h.Verify(encoded, "correct horse battery staple")
	fmt.Println("ok", ok, err)
	ok, err = h.Verify(encoded, "Tr0ub4dor&3")
	fmt.Println("ok", ok, err)
	fmt.Println("rehash", h.NeedsRehash(encoded))
	// Output:
	// true
	// ok true <nil>
	// ok false <nil>
	// rehash false
}

func ExampleNewToken() {
	token, err := hooks.NewToken()
	if err != nil {
		log.Fatal(err)
	}
	// Hand token to the client; store only its digest.
	fmt.Println(len(token), len(hooks.Digest(token)))
	// Output: 43 64
}
