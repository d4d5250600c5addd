package main

// Users as Teleport's API client reads them (teleport.users.v1.GetUser): the
// official provider's older teleport_bot reads a bot as its user `bot-<name>`.
// Messages from lib/auth/users/usersv1/service.go and
// lib/services/local/users.go.

import (
	"context"
	"fmt"
	"slices"

	"github.com/gravitational/teleport/api/client"
	headerv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/header/v1"
	machineidv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/machineid/v1"
	"github.com/gravitational/teleport/api/types"
	"github.com/gravitational/trace"
)

func users(ctx context.Context, clt *client.Client) error {
	svc := clt.BotServiceClient()
	bot := &machineidv1.Bot{
		Kind:     types.KindBot,
		Version:  types.V1,
		Metadata: &headerv1.Metadata{Name: "go-client-user", Labels: map[string]string{"env": "test"}, Description: "a bot"},
		Spec: &machineidv1.BotSpec{
			Roles:  []string{"access"},
			Traits: []*machineidv1.Trait{{Name: "logins", Values: []string{"root"}}, {Name: "empty"}},
		},
	}
	if _, err := svc.CreateBot(ctx, &machineidv1.CreateBotRequest{Bot: bot}); err != nil {
		return fmt.Errorf("CreateBot: %w", err)
	}
	defer svc.DeleteBot(ctx, &machineidv1.DeleteBotRequest{BotName: "go-client-user"})

	u, err := clt.GetUser(ctx, "bot-go-client-user", false)
	if err != nil {
		return fmt.Errorf("GetUser(bot-go-client-user): %w", err)
	}
	if !slices.Equal(u.GetRoles(), []string{"bot-go-client-user"}) {
		return fmt.Errorf("the bot user's roles are %v", u.GetRoles())
	}
	if name, _ := u.GetLabel(types.BotLabel); name != "go-client-user" {
		return fmt.Errorf("the bot user's %s label is %q", types.BotLabel, name)
	}
	if env, _ := u.GetLabel("env"); env != "test" {
		return fmt.Errorf("the bot user does not carry the bot's labels: %v", u.GetAllLabels())
	}
	if traits := u.GetTraits(); !slices.Equal(traits["logins"], []string{"root"}) || traits["empty"] != nil {
		return fmt.Errorf("the bot user's traits are %v", traits)
	}
	if by := u.GetCreatedBy().User.Name; by != "admin" {
		return fmt.Errorf("the bot user was created by %q, want admin", by)
	}
	if err := u.(*types.UserV2).CheckAndSetDefaults(); err != nil {
		return fmt.Errorf("the bot user does not pass Teleport's own checks: %w", err)
	}
	me, err := clt.GetCurrentUser(ctx)
	if err != nil {
		return fmt.Errorf("GetCurrentUser: %w", err)
	}
	if me.GetName() != "admin" {
		return fmt.Errorf("the current user is %q", me.GetName())
	}
	if _, err := clt.GetUser(ctx, "nobody", false); exactly(err, "NotFound", trace.IsNotFound, `user "nobody" is not found`) != nil {
		return fmt.Errorf("GetUser(nobody): %w", exactly(err, "NotFound", trace.IsNotFound, `user "nobody" is not found`))
	}
	want := "this request can be only executed by an admin"
	if _, err := clt.GetUser(ctx, "bot-go-client-user", true); exactly(err, "AccessDenied", trace.IsAccessDenied, want) != nil {
		return fmt.Errorf("GetUser with secrets: %w", exactly(err, "AccessDenied", trace.IsAccessDenied, want))
	}
	return nil
}

// botUser checks a bot reads itself as its user, and no other.
func botUser(ctx context.Context, clt *client.Client) error {
	me, err := clt.GetCurrentUser(ctx)
	if err != nil {
		return fmt.Errorf("GetCurrentUser: %w", err)
	}
	if _, ok := me.GetLabel(types.BotLabel); !ok {
		return fmt.Errorf("the bot's current user %q has no %s label", me.GetName(), types.BotLabel)
	}
	if _, err := clt.GetUser(ctx, me.GetName(), false); err != nil {
		return fmt.Errorf("GetUser(self): %w", err)
	}
	if _, err := clt.GetUser(ctx, "admin", false); expect(err, "AccessDenied", trace.IsAccessDenied) != nil {
		return fmt.Errorf("GetUser(admin) as a bot: %w", expect(err, "AccessDenied", trace.IsAccessDenied))
	}
	return nil
}
