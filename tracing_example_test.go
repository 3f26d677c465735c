package authstore_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/repositories"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gorm.io/plugin/opentelemetry/tracing"
)

// ExampleStore_tracing traces the Store's queries with GORM's own
// OpenTelemetry plugin (gorm.io/plugin/opentelemetry/tracing), registered
// with Use on store.DB: one client span per statement, on the host's tracer
// provider, as the host traces its own queries, with no callbacks written
// for authstore. Here the provider records spans in memory; a host passes
// the one that exports its traces.
//
// Plugins registered on store.DB apply to the Store's queries only, not to
// the host's own *gorm.DB: a host that traces its own queries registers the
// plugin on its handle as well.
//
// The plugin is registered with WithoutQueryVariables: the statement text
// in the spans keeps its placeholders and never holds a bound value, since
// the values authstore binds are password hashes, token digests and email
// addresses.
func ExampleStore_tracing() {
	ctx := context.Background()

	cfg := config.Default()
	cfg.OAuthStorage = config.StorageMemory // a private in-memory SQLite database
	cfg.AuthSessionStorage = config.StorageMemory
	store, err := authstore.Open(ctx, cfg) // Open migrates an in-memory database
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(ctx)
	err = store.DB().Use(tracing.NewPlugin(
		tracing.WithTracerProvider(tp),
		tracing.WithoutQueryVariables(), // never record bound values: hashes, digests, emails
		tracing.WithoutMetrics(),        // this example traces only
	))
	if err != nil {
		log.Fatal(err)
	}

	pw := "correct horse battery staple"
	user, err := store.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com", Password: pw, PasswordConfirmation: pw})
	if err != nil {
		log.Fatal(err)
	}
	found, err := store.Users.FindByEmail(ctx, "ada@example.com")
	fmt.Println(found.ID == user.ID, err)

	// Everything the spans hold as text: names, attributes, status, events.
	var recorded strings.Builder
	for _, s := range spans.Ended() {
		fmt.Fprintln(&recorded, s.Name(), s.Status().Description)
		for _, kv := range s.Attributes() {
			fmt.Fprintln(&recorded, kv.Key, kv.Value.Emit())
		}
		for _, e := range s.Events() {
			for _, kv := range e.Attributes {
				fmt.Fprintln(&recorded, kv.Key, kv.Value.Emit())
			}
		}
	}
	text := recorded.String()
	fmt.Println("spans recorded:", len(spans.Ended()) > 0)
	fmt.Println("password in spans:", strings.Contains(text, pw))
	fmt.Println("password hash in spans:", strings.Contains(text, user.PasswordHash))
	fmt.Println("email in spans:", strings.Contains(text, "ada@example.com"))
	// Output:
	// true <nil>
	// spans recorded: true
	// password in spans: false
	// password hash in spans: false
	// email in spans: false
}
