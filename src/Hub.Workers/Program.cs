using Hub.Consumers;
using Hub.ServiceDefaults;

// dotnet run --project src/Hub.Workers: the consumers of the production topology. It serves only the
// default endpoints (/health/live, /health/ready).
var builder = WebApplication.CreateBuilder(args);
builder.AddHubServiceDefaults();
builder.AddHubWorkers();

var app = builder.Build();
app.MapHubDefaultEndpoints();
app.Run();
