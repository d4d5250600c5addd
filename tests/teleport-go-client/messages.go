package main

// Teleport's answers to what a client gets wrong, and the defaults it fills:
//
//   - tokens: the server's message must be exactly what the module's own
//     ProvisionTokenV2.CheckAndSetDefaults says about the same token (the
//     Go client sends a token as it is, so Teleport's Auth runs that check);
//   - bots: the messages and the server defaults of
//     lib/auth/machineid/machineidv1/bot_service.go (not in the API module,
//     so written out here), with trace's wrapping ("context\n\tcause").

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/gravitational/teleport/api/client"
	headerv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/header/v1"
	machineidv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/machineid/v1"
	"github.com/gravitational/teleport/api/types"
	"github.com/gravitational/trace"
	"google.golang.org/protobuf/encoding/protowire"
	gproto "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// exactly checks err is of the class and its message is `want`.
func exactly(err error, class string, is func(error) bool, want string) error {
	if err := expect(err, class, is); err != nil {
		return err
	}
	if got := trace.UserMessage(err); got != want {
		return fmt.Errorf("the %s message is %q, Teleport says %q", class, got, want)
	}
	return nil
}

// invalidTokens are tokens Teleport refuses, one reason each.
func invalidTokens() map[string]*types.ProvisionTokenV2 {
	spec := func(s types.ProvisionTokenSpecV2) *types.ProvisionTokenV2 {
		return &types.ProvisionTokenV2{Metadata: types.Metadata{Name: "go-client-invalid"}, Spec: s}
	}
	noName := spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode}})
	noName.Metadata.Name = ""
	badLabel := spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode}})
	badLabel.Metadata.Labels = map[string]string{"bad label!": "x"}
	return map[string]*types.ProvisionTokenV2{
		"no name":           noName,
		"invalid label key": badLabel,
		"no roles":          spec(types.ProvisionTokenSpecV2{}),
		"unknown role":      spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{"Wizard"}}),
		"duplicate role":    spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode, "node"}}),
		"bot without name":  spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleBot}}),
		"bot name, no bot":  spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode}, BotName: "b"}),
		"token with allow": spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode}, JoinMethod: types.JoinMethodToken,
			Allow: []*types.TokenRule{{AWSAccount: "1"}}}),
		"ec2 without allow":    spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode}, JoinMethod: types.JoinMethodEC2}),
		"iam with aws_role":    spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode}, JoinMethod: types.JoinMethodIAM, Allow: []*types.TokenRule{{AWSAccount: "1", AWSRole: "r"}}}),
		"azure without block":  spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleBot}, BotName: "b", JoinMethod: types.JoinMethodAzure}),
		"azure without rules":  spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleBot}, BotName: "b", JoinMethod: types.JoinMethodAzure, Azure: &types.ProvisionTokenSpecV2Azure{}}),
		"azure without sub":    spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleBot}, BotName: "b", JoinMethod: types.JoinMethodAzure, Azure: &types.ProvisionTokenSpecV2Azure{Allow: []*types.ProvisionTokenSpecV2Azure_Rule{{ResourceGroups: []string{"g"}}}}}),
		"github without block": spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleBot}, BotName: "b", JoinMethod: types.JoinMethodGitHub}),
		"unknown join method":  spec(types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode}, JoinMethod: "carrier-pigeon"}),
	}
}

// tokenMessages checks each invalid token is refused with Teleport's own words.
func tokenMessages(ctx context.Context, clt *client.Client) error {
	cases := invalidTokens()
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	var wrong []error
	for _, name := range names {
		tok := cases[name]
		want := proto.Clone(tok).(*types.ProvisionTokenV2).CheckAndSetDefaults()
		if want == nil {
			return fmt.Errorf("%s: Teleport's module accepts this token; the case is wrong", name)
		}
		err := clt.UpsertToken(ctx, tok)
		if e := exactly(err, "BadParameter", trace.IsBadParameter, trace.UserMessage(want)); e != nil {
			wrong = append(wrong, fmt.Errorf("%s: %w", name, e))
		}
	}
	if len(wrong) > 0 {
		return trace.NewAggregate(wrong...)
	}
	// Kind and version are Teleport's to set, whatever the client sends.
	odd := &types.ProvisionTokenV2{Kind: "oddity", Version: "v9", Metadata: types.Metadata{Name: "go-client-odd"},
		Spec: types.ProvisionTokenSpecV2{Roles: types.SystemRoles{types.RoleNode}}}
	if err := clt.UpsertToken(ctx, odd); err != nil {
		return fmt.Errorf("a token with another kind and version: %w", err)
	}
	got, err := clt.GetToken(ctx, "go-client-odd")
	if err != nil {
		return fmt.Errorf("GetToken(go-client-odd): %w", err)
	}
	if got.GetKind() != types.KindToken || got.GetVersion() != types.V2 {
		return fmt.Errorf("the token came back as kind %q version %q", got.GetKind(), got.GetVersion())
	}
	return trace.Wrap(clt.DeleteToken(ctx, "go-client-odd"))
}

// botDefaults checks what Teleport fills in and leaves out of a bot.
func botDefaults(ctx context.Context, clt *client.Client) error {
	svc := clt.BotServiceClient()
	bot := &machineidv1.Bot{
		Kind:     types.KindBot,
		SubKind:  "ignored",
		Version:  types.V1,
		Metadata: &headerv1.Metadata{Name: "go-client-defaults", Namespace: "default", Revision: "mine"},
		Spec: &machineidv1.BotSpec{
			Roles:  []string{"access"},
			Traits: []*machineidv1.Trait{{Name: "logins", Values: []string{"root"}}, {Name: "none"}, {Name: "logins", Values: []string{"ubuntu"}}},
		},
	}
	created, err := svc.CreateBot(ctx, &machineidv1.CreateBotRequest{Bot: bot})
	if err != nil {
		return fmt.Errorf("CreateBot: %w", err)
	}
	defer svc.DeleteBot(ctx, &machineidv1.DeleteBotRequest{BotName: "go-client-defaults"})
	got, err := svc.GetBot(ctx, &machineidv1.GetBotRequest{BotName: "go-client-defaults"})
	if err != nil {
		return fmt.Errorf("GetBot: %w", err)
	}
	for what, b := range map[string]*machineidv1.Bot{"CreateBot": created, "GetBot": got} {
		if ttl := maxSessionTTL(b.GetSpec()); ttl == nil || ttl.AsDuration() != 12*time.Hour {
			return fmt.Errorf("%s: max_session_ttl is %v, Teleport's default is 12h", what, ttl)
		}
		m := b.GetMetadata()
		if m.GetNamespace() != "" || m.GetRevision() != "" || b.GetSubKind() != "" {
			return fmt.Errorf("%s: namespace %q, revision %q, sub_kind %q: Teleport keeps none of them for a bot", what, m.GetNamespace(), m.GetRevision(), b.GetSubKind())
		}
		traits := b.GetSpec().GetTraits()
		if len(traits) != 1 || traits[0].GetName() != "logins" || !slices.Equal(traits[0].GetValues(), []string{"root", "ubuntu"}) {
			return fmt.Errorf("%s: traits %v, want logins=[root ubuntu] (merged, the empty one dropped)", what, traits)
		}
		if b.GetKind() != types.KindBot || b.GetVersion() != types.V1 || b.GetStatus().GetRoleName() != "bot-go-client-defaults" {
			return fmt.Errorf("%s: kind %q version %q status %v", what, b.GetKind(), b.GetVersion(), b.GetStatus())
		}
	}
	bot.Metadata.Name = "go-client-ttl"
	setMaxSessionTTL(bot.Spec, time.Hour)
	withTTL, err := svc.UpsertBot(ctx, &machineidv1.UpsertBotRequest{Bot: bot})
	if err != nil {
		return fmt.Errorf("UpsertBot: %w", err)
	}
	defer svc.DeleteBot(ctx, &machineidv1.DeleteBotRequest{BotName: "go-client-ttl"})
	if ttl := maxSessionTTL(withTTL.GetSpec()); ttl == nil || ttl.AsDuration() != time.Hour {
		return fmt.Errorf("UpsertBot: max_session_ttl %v, want 1h", ttl)
	}
	return nil
}

// The module's BotSpec predates max_session_ttl (field 3, a
// google.protobuf.Duration: bot.proto at gravitational/teleport@00b535bf), so
// it reaches this client as an unknown field: read and written raw.
const maxSessionTTLField = 3

func maxSessionTTL(spec *machineidv1.BotSpec) *durationpb.Duration {
	raw := spec.ProtoReflect().GetUnknown()
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil
		}
		raw = raw[n:]
		if num == maxSessionTTLField && typ == protowire.BytesType {
			value, m := protowire.ConsumeBytes(raw)
			d := &durationpb.Duration{}
			if m < 0 || gproto.Unmarshal(value, d) != nil {
				return nil
			}
			return d
		}
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			return nil
		}
		raw = raw[m:]
	}
	return nil
}

func setMaxSessionTTL(spec *machineidv1.BotSpec, ttl time.Duration) {
	value, _ := gproto.Marshal(durationpb.New(ttl))
	raw := protowire.AppendTag(nil, maxSessionTTLField, protowire.BytesType)
	spec.ProtoReflect().SetUnknown(protowire.AppendBytes(raw, value))
}

// refusal is one call's error and what Teleport answers instead.
type refusal struct {
	name  string
	err   error
	class string
	is    func(error) bool
	want  string
}

// botMessages checks the bot service's refusals, word for word.
func botMessages(ctx context.Context, clt *client.Client) error {
	svc := clt.BotServiceClient()
	write := func(b *machineidv1.Bot) error {
		_, err := svc.CreateBot(ctx, &machineidv1.CreateBotRequest{Bot: b})
		return trace.Wrap(err)
	}
	spec := &machineidv1.BotSpec{Roles: []string{"access"}}
	cases := []refusal{
		{"CreateBot(nil)", write(nil), "BadParameter", trace.IsBadParameter, "setting kind and version\n\tbot: must be non-nil"},
		{"CreateBot without metadata", write(&machineidv1.Bot{Spec: spec}), "BadParameter", trace.IsBadParameter, "validating bot\n\tmetadata: must be non-nil"},
		{"CreateBot without name", write(&machineidv1.Bot{Metadata: &headerv1.Metadata{}, Spec: spec}), "BadParameter", trace.IsBadParameter, "validating bot\n\tmetadata.name: must be non-empty"},
		{"CreateBot without spec", write(&machineidv1.Bot{Metadata: &headerv1.Metadata{Name: "x"}}), "BadParameter", trace.IsBadParameter, "validating bot\n\tspec: must be non-nil"},
		{"CreateBot with an empty role", write(&machineidv1.Bot{Metadata: &headerv1.Metadata{Name: "x"}, Spec: &machineidv1.BotSpec{Roles: []string{"a", ""}}}), "BadParameter", trace.IsBadParameter, "validating bot\n\tspec.roles: must not contain empty strings"},
	}
	_, getErr := svc.GetBot(ctx, &machineidv1.GetBotRequest{BotName: "go-client-missing"})
	_, delErr := svc.DeleteBot(ctx, &machineidv1.DeleteBotRequest{BotName: "go-client-missing"})
	_, emptyErr := svc.GetBot(ctx, &machineidv1.GetBotRequest{})
	cases = append(cases,
		refusal{"GetBot(missing)", trace.Wrap(getErr), "NotFound", trace.IsNotFound, "fetching bot user\n\tuser \"bot-go-client-missing\" is not found"},
		refusal{"DeleteBot(missing)", trace.Wrap(delErr), "NotFound", trace.IsNotFound, "user \"bot-go-client-missing\" is not found"},
		refusal{"GetBot without a name", trace.Wrap(emptyErr), "BadParameter", trace.IsBadParameter, "bot_name: must be non-empty"},
	)
	for _, c := range cases {
		if e := exactly(c.err, c.class, c.is, c.want); e != nil {
			return fmt.Errorf("%s: %w", c.name, e)
		}
	}
	// A bot that exists already: the user look-up of CreateUser, wrapped.
	dup := &machineidv1.Bot{Metadata: &headerv1.Metadata{Name: "go-client-dup"}, Spec: spec}
	if err := write(dup); err != nil {
		return fmt.Errorf("CreateBot(go-client-dup): %w", err)
	}
	defer svc.DeleteBot(ctx, &machineidv1.DeleteBotRequest{BotName: "go-client-dup"})
	want := "creating bot user\n\tuser \"bot-go-client-dup\" already registered"
	if e := exactly(write(dup), "AlreadyExists", trace.IsAlreadyExists, want); e != nil {
		return fmt.Errorf("CreateBot again: %w", e)
	}
	return nil
}
