using Hub.Api.Agents;
using Hub.Api.Auth;
using Hub.Api.Demo;
using Hub.Api.Infrastructure;
using Hub.Api.Sessions;
using Hub.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddHubServiceDefaults();
builder.Services.AddHubHttp();
builder.Services.AddHubAuthentication();
builder.Services.AddHubAgents();
builder.Services.AddHubBus(builder.Configuration);
builder.AddHubDemo();

var app = builder.Build();
if (await app.TryRunAdminKeyCommandAsync(args) || await app.TryRunEmbedTokenKeyCommandAsync(args))
{
    return;
}

app.UseHubHttp();
app.MapHubDefaultEndpoints();
app.MapHubApi();
app.MapHubDemo();
app.PrintStartupBanner();

app.Run();

public partial class Program;
