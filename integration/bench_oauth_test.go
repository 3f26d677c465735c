package integration

import (
	"context"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/oidcstore"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/provider"
	"github.com/forgeauth/authstore/repositories"
	"gorm.io/gorm/logger"
)

// benchClient registers a confidential client and returns it with its
// secret.
func benchClient(b *testing.B, s *authstore.Store) (*models.Client, string) {
	b.Helper()
	c, secret, err := s.Clients.Create(context.Background(),
		repositories.ClientInput{Name: "bench", RedirectURIs: []string{"https://app.example.com/cb"}, Confidential: true,
			GrantTypes: []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken, protocol.GrantClientCredentials}})
	if err != nil {
		b.Fatal(err)
	}
	return c, secret
}

// BenchmarkClientValidation is Clients.ValidateCredentials: warm (the same
// correct secret again, served by the verification cache) and cold (a
// first validation, paying Argon2id m=19 MiB, t=2, p=1).
func BenchmarkClientValidation(b *testing.B) {
	for _, name := range []string{"memory", "sqlite", "postgres", "mysql"} {
		b.Run(name, func(b *testing.B) {
			s, cfg := benchStore(b, name)
			c, secret := benchClient(b, s)
			ctx := context.Background()
			b.Run("warm", func(b *testing.B) {
				clients := s.Clients
				if _, err := clients.ValidateCredentials(ctx, c.ID, secret); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := clients.ValidateCredentials(ctx, c.ID, secret); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("cold", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					// A new Store over the same database: its Clients has an
					// empty cache. Opening it is not measured.
					b.StopTimer()
					cold, err := authstore.New(s.DB(), authstore.WithConfig(cfg), authstore.WithLogger(logger.Discard))
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := cold.Clients.ValidateCredentials(ctx, c.ID, secret); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkParallelTokenRotation rotates refresh tokens from many
// goroutines, each following its own token family.
func BenchmarkParallelTokenRotation(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres", "mysql"} {
		b.Run(name, func(b *testing.B) {
			s, _ := benchStore(b, name)
			c, secret := benchClient(b, s)
			refresh := s.RefreshTokens
			ctx := context.Background()
			auth, err := s.Clients.Authenticate(ctx, c.ID, secret)
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				pair, err := refresh.Issue(ctx, c.ID, nil, nil)
				if err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					if pair, err = refresh.Rotate(ctx, auth, pair.RefreshToken, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// purgeRows is how many expired rows BenchmarkPurge seeds
// (AUTHSTORE_BENCH_PURGE_ROWS overrides).
func purgeRows(b *testing.B) int {
	if v := os.Getenv("AUTHSTORE_BENCH_PURGE_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("AUTHSTORE_BENCH_PURGE_ROWS=%q: want a positive integer", v)
		}
		return n
	}
	return 1000000
}

// seedExpiredAccessTokens inserts n expired access-token rows with one
// INSERT ... SELECT in the database.
func seedExpiredAccessTokens(b *testing.B, s *authstore.Store, clientID models.UUID, n int) {
	b.Helper()
	past := s.Now().Add(-48 * time.Hour)
	var q string
	if s.DB().Dialector.Name() == "postgres" {
		q = `INSERT INTO oauth_access_tokens (id, client_id, name, scopes, revoked, expires_at, created_at, updated_at)
			SELECT gen_random_uuid(), $1, '', '[]', false, $2, $2, $2 FROM generate_series(1, $3)`
	} else {
		q = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?3)
			INSERT INTO oauth_access_tokens (id, client_id, name, scopes, revoked, expires_at, created_at, updated_at)
			SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' ||
			       substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), ?1, '', '[]', 0, ?2, ?2, ?2 FROM seq`
	}
	if err := s.DB().Exec(q, clientID, past, n).Error; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPurge deletes a seeded backlog of expired access tokens in
// batches of 1000 and reports rows per second, first alone, then while 4
// goroutines validate live access tokens at a steady pace (one validation
// each per half millisecond), with the p99 validation latency before and
// during the purge.
func BenchmarkPurge(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s, _ := benchStore(b, name)
			c, _ := benchClient(b, s)
			ctx := context.Background()
			access := s.AccessTokens
			var live []string
			for i := 0; i < 200; i++ {
				_, tok, err := access.Issue(ctx, c.ID, nil, nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				live = append(live, tok)
			}
			// lookups validates tokens at a steady pace until stop closes
			// and returns the latencies.
			lookups := func(stop <-chan struct{}) []time.Duration {
				var mu sync.Mutex
				var all []time.Duration
				var wg sync.WaitGroup
				var next atomic.Int64
				for g := 0; g < 4; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var mine []time.Duration
						tick := time.NewTicker(500 * time.Microsecond)
						defer tick.Stop()
						for {
							select {
							case <-stop:
								mu.Lock()
								all = append(all, mine...)
								mu.Unlock()
								return
							case <-tick.C:
							}
							start := time.Now()
							if _, err := access.Validate(ctx, live[next.Add(1)%int64(len(live))]); err != nil {
								b.Error(err)
							}
							mine = append(mine, time.Since(start))
						}
					}()
				}
				<-stop
				wg.Wait()
				return all
			}
			purge := func() time.Duration {
				start := time.Now()
				res, err := s.Cleanup.Purge(ctx, repositories.PurgeOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if got := res.Tables["oauth_access_tokens"]; got != int64(purgeRows(b)) {
					b.Fatalf("purged %d access tokens; want %d", got, purgeRows(b))
				}
				return time.Since(start)
			}
			n := purgeRows(b)
			var alone, loaded time.Duration
			var p99Idle, p99Busy float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				seedExpiredAccessTokens(b, s, c.ID, n)
				b.StartTimer()
				alone = purge()
				b.StopTimer()

				seedExpiredAccessTokens(b, s, c.ID, n)
				stop := make(chan struct{})
				done := make(chan []time.Duration)
				go func() { done <- lookups(stop) }()
				time.Sleep(time.Second) // warm up
				close(stop)
				<-done
				stop = make(chan struct{})
				go func() { done <- lookups(stop) }()
				time.Sleep(3 * time.Second)
				close(stop)
				p99Idle = p99(<-done)

				stop = make(chan struct{})
				go func() { done <- lookups(stop) }()
				loaded = purge()
				close(stop)
				p99Busy = p99(<-done)
			}
			b.ReportMetric(float64(n)/alone.Seconds(), "rows/s")
			b.ReportMetric(float64(n)/loaded.Seconds(), "rows/s-under-lookups")
			b.ReportMetric(p99Idle, "p99-lookup-idle-µs")
			b.ReportMetric(p99Busy, "p99-lookup-purging-µs")
		})
	}
}

// p99 returns the 99th percentile in microseconds.
func p99(d []time.Duration) float64 { return percentile(d, 0.99) }

func percentile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[int(float64(len(s)-1)*q)].Nanoseconds()) / 1e3
}

// BenchmarkAccessTokenValidate is AccessTokens.Validate warm (the key
// cached, the token's row read each time, as every validation does) for a
// token signed with each algorithm: HS256 (JWT_SECRET, the legacy mode),
// RS256 (2048-bit), ES256 and EdDSA.
func BenchmarkAccessTokenValidate(b *testing.B) {
	for _, name := range []string{"memory", "sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
				b.Run(alg, func(b *testing.B) {
					s, cfg := benchStore(b, name)
					if alg != "HS256" {
						setMasterKey(&cfg, masterKey1)
						var err error
						if s, err = authstore.New(s.DB(), authstore.WithConfig(cfg), authstore.WithLogger(logger.Discard)); err != nil {
							b.Fatal(err)
						}
						if _, err := s.Keys.Rotate(context.Background(), repositories.RotateOptions{Algorithm: alg}); err != nil {
							b.Fatal(err)
						}
					}
					c, secret := benchClient(b, s)
					ctx := context.Background()
					authed, err := s.Clients.Authenticate(ctx, c.ID, secret)
					if err != nil {
						b.Fatal(err)
					}
					_, token, err := s.AccessTokens.IssueClientCredentials(ctx, authed, nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.AccessTokens.Validate(ctx, token); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := s.AccessTokens.Validate(ctx, token); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkVerifyAccessToken is oidcstore's Verifier.Verify of an access
// token of the provider (authstore serve, RS256), on SQLite: the published
// keys and the token's row are read each time (nothing is cached, so a
// revocation takes effect at once), then one signature verification.
// Compare BenchmarkAccessTokenValidate, the Store's own tokens.
func BenchmarkVerifyAccessToken(b *testing.B) {
	ctx := context.Background()
	s := providerBenchStore(b, "sqlite")
	c, secret := benchClient(b, s)
	issuer := serveOP(b, func(issuer string) (http.Handler, error) {
		return provider.New(ctx, s, provider.Config{Issuer: issuer})
	})
	t, err := newEndpointClient(b, issuer, string(c.ID), secret, c.RedirectURIs[0], nil).clientCredentials("")
	if err != nil {
		b.Fatal(err)
	}
	v, err := oidcstore.NewVerifier(s, issuer, oidcstore.WithAudience(string(c.ID)))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Verify(ctx, t.AccessToken); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, t.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}
