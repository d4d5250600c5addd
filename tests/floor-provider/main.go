// Command terraform-provider-floor is the floor of Joinery's plan benchmark
// (issue 14): a do-nothing Terraform provider built on HashiCorp's
// terraform-plugin-framework that serves exactly the resource schemas of
// another provider, read at start-up from the JSON of
// `terraform providers schema -json` named by $JOINERY_FLOOR_SCHEMA.
//
// `terraform_data` is built into Terraform and has four attributes; a plugin
// provider pays go-plugin gRPC per instance and Terraform's own work grows
// with the schema. This provider pays both and nothing else: Create and
// Update store the plan (unknowns as null), Read returns the prior state,
// Delete forgets. The ratio of a real provider's plan to this one's is what
// its implementation costs over the best any framework provider could do.
//
// It is served under registry.terraform.io/joinery/floor, so a configuration
// selects it with `teleport = { source = "joinery/floor" }` and a
// dev_overrides entry for "joinery/floor"; resource type names are the
// schema file's own (teleport_bot, ...). The provider block takes no
// attributes: `provider "teleport" {}`.
//
// $JOINERY_FLOOR_CPUPROFILE, if set, makes each provider process write a Go
// CPU profile to "$JOINERY_FLOOR_CPUPROFILE.<pid>" (`go tool pprof`): where the
// framework spends the floor's time.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"runtime/pprof"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

const schemaEnv = "JOINERY_FLOOR_SCHEMA"

func main() {
	path := os.Getenv(schemaEnv)
	if path == "" {
		log.Fatalf("%s must name the JSON of `terraform providers schema -json`", schemaEnv)
	}
	schemas, err := loadSchemas(path)
	if err != nil {
		log.Fatal(err)
	}
	if out := os.Getenv("JOINERY_FLOOR_CPUPROFILE"); out != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", out, os.Getpid()))
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	err = providerserver.Serve(context.Background(), func() provider.Provider { return &floor{schemas: schemas} },
		providerserver.ServeOpts{Address: "registry.terraform.io/joinery/floor", ProtocolVersion: 6})
	if err != nil {
		log.Fatal(err)
	}
}

// floor is the provider: no configuration, one resource type per schema.
type floor struct {
	schemas []resourceSchema
}

func (p *floor) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "floor"
}

func (p *floor) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (p *floor) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}

func (p *floor) DataSources(context.Context) []func() datasource.DataSource { return nil }

func (p *floor) Resources(context.Context) []func() resource.Resource {
	factories := make([]func() resource.Resource, 0, len(p.schemas))
	for _, s := range p.schemas {
		factories = append(factories, func() resource.Resource { return &echo{schema: s} })
	}
	return factories
}
