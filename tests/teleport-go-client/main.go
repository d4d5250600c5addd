// Command teleport-go-client drives a Teleport Auth server with Teleport's
// own Go API client (github.com/gravitational/teleport/api) and checks its
// answers the way a Teleport user's program would see them: values, error
// classes (trace.IsNotFound, …) and messages. Joinery runs it against
// joinery-devstack from `make test`, so the devstack is checked by an
// independent client, not only by Joinery's own.
//
//	teleport-go-client -addr 127.0.0.1:3025 -identity admin-identity -cluster devstack \
//	    [-bot-identity bot-identity] [-descriptors joinery.fds]
//
// `-bot-identity` is a bot's own identity (a joinery-agent storage
// directory's `identity`): the checks a bot makes (its user, the CAs tbot
// writes) run with it. `-descriptors` compares Joinery's compiled protos with
// the module's (protos.go); it needs no server.
//
// Each check prints "ok <name>" or "FAIL <name>: <why>"; the exit code is 1
// if any check failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gravitational/teleport/api/client"
	headerv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/header/v1"
	machineidv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/machineid/v1"
	"github.com/gravitational/teleport/api/types"
	"github.com/gravitational/trace"
)

var failed bool

func check(name string, err error) {
	if err != nil {
		failed = true
		fmt.Printf("FAIL %s: %v\n", name, err)
		return
	}
	fmt.Printf("ok %s\n", name)
}

// expect checks err is of the class `is` and its message holds every fragment.
func expect(err error, class string, is func(error) bool, fragments ...string) error {
	if err == nil {
		return fmt.Errorf("expected a %s error, got success", class)
	}
	if !is(err) {
		return fmt.Errorf("expected a %s error, got %T: %v", class, trace.Unwrap(err), err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			return fmt.Errorf("the %s message %q lacks %q", class, err.Error(), f)
		}
	}
	return nil
}

func main() {
	addr := flag.String("addr", "", "Auth server address")
	identity := flag.String("identity", "", "admin identity file")
	cluster := flag.String("cluster", "", "expected cluster name")
	descriptors := flag.String("descriptors", "", "Joinery's compiled FileDescriptorSet, to compare with Teleport's")
	botIdentity := flag.String("bot-identity", "", "a bot's own identity file")
	flag.Parse()
	if *descriptors != "" {
		check("protos", checkProtos(*descriptors))
	}
	if *addr == "" {
		if failed {
			os.Exit(1)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	clt, err := client.New(ctx, client.Config{
		Addrs:       []string{*addr},
		Credentials: []client.Credentials{client.LoadIdentityFile(*identity)},
		DialTimeout: 10 * time.Second,
	})
	if err != nil {
		fmt.Printf("FAIL connect: %v\n", err)
		os.Exit(1)
	}
	defer clt.Close()

	check("ping", ping(ctx, clt, *cluster))
	check("tokens", tokens(ctx, clt))
	check("token messages", tokenMessages(ctx, clt))
	check("bots", bots(ctx, clt))
	check("bot defaults", botDefaults(ctx, clt))
	check("bot messages", botMessages(ctx, clt))
	check("users", users(ctx, clt))
	check("cert authorities", certAuthorities(ctx, clt, "the admin", *cluster, *identity))
	if *botIdentity != "" {
		bot, err := client.New(ctx, client.Config{
			Addrs:       []string{*addr},
			Credentials: []client.Credentials{client.LoadIdentityFile(*botIdentity)},
			DialTimeout: 10 * time.Second,
		})
		if err != nil {
			check("connect as the bot", err)
		} else {
			defer bot.Close()
			check("bot user", botUser(ctx, bot))
			check("bot cert authorities", certAuthorities(ctx, bot, "a bot", *cluster, *botIdentity))
		}
	}
	if failed {
		os.Exit(1)
	}
}

func ping(ctx context.Context, clt *client.Client, cluster string) error {
	resp, err := clt.Ping(ctx)
	if err != nil {
		return err
	}
	if resp.ClusterName != cluster {
		return fmt.Errorf("cluster name %q, want %q", resp.ClusterName, cluster)
	}
	if !strings.HasPrefix(resp.ServerVersion, "17.") && !strings.HasPrefix(resp.ServerVersion, "18.") {
		return fmt.Errorf("server version %q is not a Teleport 17 or 18", resp.ServerVersion)
	}
	return nil
}

func tokens(ctx context.Context, clt *client.Client) error {
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tok, err := types.NewProvisionTokenFromSpec("go-client-token", expires, types.ProvisionTokenSpecV2{
		Roles:      types.SystemRoles{types.RoleBot},
		BotName:    "go-client-bot",
		JoinMethod: types.JoinMethodToken,
	})
	if err != nil {
		return err
	}
	if err := clt.CreateToken(ctx, tok); err != nil {
		return fmt.Errorf("CreateToken: %w", err)
	}
	got, err := clt.GetToken(ctx, "go-client-token")
	if err != nil {
		return fmt.Errorf("GetToken: %w", err)
	}
	if got.GetBotName() != "go-client-bot" || got.GetJoinMethod() != types.JoinMethodToken || !got.Expiry().Equal(expires) {
		return fmt.Errorf("GetToken returned bot %q, method %q, expiry %v", got.GetBotName(), got.GetJoinMethod(), got.Expiry())
	}
	if err := expect(clt.CreateToken(ctx, tok), "AlreadyExists", trace.IsAlreadyExists); err != nil {
		return fmt.Errorf("CreateToken again: %w", err)
	}
	if _, err := clt.GetToken(ctx, "go-client-missing"); expect(err, "NotFound", trace.IsNotFound) != nil {
		return fmt.Errorf("GetToken of a missing token: %w", expect(err, "NotFound", trace.IsNotFound))
	}
	all, err := clt.GetTokens(ctx)
	if err != nil {
		return fmt.Errorf("GetTokens: %w", err)
	}
	found := false
	for _, t := range all {
		found = found || t.GetName() == "go-client-token"
	}
	if !found {
		return fmt.Errorf("GetTokens does not list go-client-token")
	}
	if err := clt.DeleteToken(ctx, "go-client-token"); err != nil {
		return fmt.Errorf("DeleteToken: %w", err)
	}
	if err := expect(clt.DeleteToken(ctx, "go-client-token"), "NotFound", trace.IsNotFound); err != nil {
		return fmt.Errorf("DeleteToken again: %w", err)
	}
	return nil
}

func bots(ctx context.Context, clt *client.Client) error {
	svc := clt.BotServiceClient()
	bot := &machineidv1.Bot{
		Kind:     types.KindBot,
		Version:  types.V1,
		Metadata: &headerv1.Metadata{Name: "go-client-bot"},
		Spec:     &machineidv1.BotSpec{Roles: []string{"access"}},
	}
	created, err := svc.CreateBot(ctx, &machineidv1.CreateBotRequest{Bot: bot})
	if err != nil {
		return fmt.Errorf("CreateBot: %w", err)
	}
	if created.GetStatus().GetUserName() != "bot-go-client-bot" || created.GetStatus().GetRoleName() != "bot-go-client-bot" {
		return fmt.Errorf("CreateBot status %+v", created.GetStatus())
	}
	if _, err := svc.CreateBot(ctx, &machineidv1.CreateBotRequest{Bot: bot}); expect(trace.Wrap(err), "AlreadyExists", trace.IsAlreadyExists) != nil {
		return fmt.Errorf("CreateBot again: %w", expect(trace.Wrap(err), "AlreadyExists", trace.IsAlreadyExists))
	}
	got, err := svc.GetBot(ctx, &machineidv1.GetBotRequest{BotName: "go-client-bot"})
	if err != nil {
		return fmt.Errorf("GetBot: %w", err)
	}
	if strings.Join(got.GetSpec().GetRoles(), ",") != "access" {
		return fmt.Errorf("GetBot roles %v", got.GetSpec().GetRoles())
	}
	list, err := svc.ListBots(ctx, &machineidv1.ListBotsRequest{})
	if err != nil {
		return fmt.Errorf("ListBots: %w", err)
	}
	if len(list.GetBots()) == 0 {
		return fmt.Errorf("ListBots is empty")
	}
	if _, err := svc.DeleteBot(ctx, &machineidv1.DeleteBotRequest{BotName: "go-client-bot"}); err != nil {
		return fmt.Errorf("DeleteBot: %w", err)
	}
	if _, err := svc.GetBot(ctx, &machineidv1.GetBotRequest{BotName: "go-client-bot"}); expect(trace.Wrap(err), "NotFound", trace.IsNotFound) != nil {
		return fmt.Errorf("GetBot after DeleteBot: %w", expect(trace.Wrap(err), "NotFound", trace.IsNotFound))
	}
	return nil
}
