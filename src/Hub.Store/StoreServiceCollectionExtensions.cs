using Dapper;
using Hub.Store.Config;
using Hub.Store.Contacts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Hub.Store;

public static class StoreServiceCollectionExtensions
{
    /// <summary>
    /// PostgreSQL when <c>ConnectionStrings:Postgres</c> is set, otherwise a SQLite file in the data
    /// directory. Migrations run before any other hosted service starts (register this first).
    /// </summary>
    public static IServiceCollection AddHubStore(this IServiceCollection services, IConfiguration configuration)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        services.AddOptions<HubSettings>().Bind(configuration.GetSection(HubSettings.Section))
            .Validate(settings => settings.MaxTenantDepth >= 1, "Hub:MaxTenantDepth must be at least 1.")
            .Validate(settings => settings.EmbedTokenKeyLifetime >= TimeSpan.FromHours(1), "Hub:EmbedTokenKeyLifetime must be at least 01:00:00.")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(provider =>
        {
            var postgres = configuration.GetConnectionString("Postgres");
            if (!string.IsNullOrWhiteSpace(postgres))
            {
                return HubDatabase.ForPostgres(postgres);
            }

            var sqlite = configuration.GetConnectionString("Sqlite");
            var options = provider.GetRequiredService<IOptions<HubSettings>>().Value;
            return HubDatabase.ForSqlite(string.IsNullOrWhiteSpace(sqlite) ? Path.Combine(options.DataDirectory, "hub.db") : sqlite);
        });
        services.AddSingleton<Migrator>();
        services.AddHostedService<MigrationHostedService>();
        services.AddSingleton<ContactDirectory>();
        services.AddSingleton<TenantConfigReader>();
        return services;
    }

    private sealed class MigrationHostedService(Migrator migrator) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => migrator.ApplyAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
