using Dapper;
using Hub.Store.Config;
using Hub.Store.Contacts;
using Hub.Store.DataProtection;
using Hub.Store.Phones;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Hub.Store;

public static class StoreServiceCollectionExtensions
{
    /// <summary>
    /// PostgreSQL when <c>ConnectionStrings:Postgres</c> is set, otherwise a SQLite file in the data
    /// directory. Migrations run before any other hosted service starts (register this first), then the
    /// Data Protection key ring the store's secrets are encrypted with is made ready; stored phone numbers are
    /// re-normalised once in the background (<see cref="PhoneNumberUpgrade"/>).
    /// </summary>
    public static IServiceCollection AddHubStore(this IServiceCollection services, IConfiguration configuration)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        services.AddOptions<HubSettings>().Bind(configuration.GetSection(HubSettings.Section))
            .Validate(settings => settings.MaxTenantDepth >= 1, "Hub:MaxTenantDepth must be at least 1.")
            .Validate(settings => settings.EmbedTokenKeyLifetime >= TimeSpan.FromHours(1), "Hub:EmbedTokenKeyLifetime must be at least 01:00:00.")
            .Validate(settings => DefaultCountry.IsValid(settings.DefaultCountryCode),
                "Hub:DefaultCountryCode must be a country calling code such as 84 or a region code such as VN.")
            // A wrong value stops the process at start, naming the setting, rather than misbehaving later.
            .Validate(settings => settings.PublishTimeout > TimeSpan.Zero, "Hub:PublishTimeout must be longer than 00:00:00.")
            .Validate(settings => settings.EmbeddedBacklog >= 1, "Hub:EmbeddedBacklog must be at least 1.")
            .Validate(settings => settings.SessionLifetime > TimeSpan.Zero, "Hub:SessionLifetime must be longer than 00:00:00.")
            .Validate(settings => settings.CommandTimeout > TimeSpan.Zero, "Hub:CommandTimeout must be longer than 00:00:00.")
            .Validate(settings => settings.CallSweepAfter > TimeSpan.Zero, "Hub:CallSweepAfter must be longer than 00:00:00.")
            .Validate(settings => settings.EventIdRetention > TimeSpan.Zero, "Hub:EventIdRetention must be longer than 00:00:00.")
            .Validate(settings => settings.EventStreamRetention > TimeSpan.Zero, "Hub:EventStreamRetention must be longer than 00:00:00.")
            .Validate(settings => settings.RateLimits.PerKeyPerMinute >= 0 && settings.RateLimits.PerSessionPerMinute >= 0
                    && settings.RateLimits.AnonymousPerMinute >= 0,
                "Hub:RateLimits:PerKeyPerMinute, PerSessionPerMinute and AnonymousPerMinute must be 0 (unlimited) or more.")
            .Validate(settings => settings.RateLimits.MaxBodyBytes >= 1024 && settings.RateLimits.MaxContactsBodyBytes >= 1024,
                "Hub:RateLimits:MaxBodyBytes and MaxContactsBodyBytes must be at least 1024.")
            .Validate(settings => settings.Webhooks.AttemptTimeout > TimeSpan.Zero, "Hub:Webhooks:AttemptTimeout must be longer than 00:00:00.")
            .Validate(settings => settings.Webhooks.PollInterval > TimeSpan.Zero, "Hub:Webhooks:PollInterval must be longer than 00:00:00.")
            .Validate(settings => settings.Webhooks.RetrySchedule is null || settings.Webhooks.RetrySchedule.All(delay => delay >= TimeSpan.Zero),
                "Hub:Webhooks:RetrySchedule must hold no negative delay.")
            .Validate(settings => settings.Webhooks.MaxConcurrentPerTenant >= 1 && settings.Webhooks.MaxConcurrentPerHost >= 1,
                "Hub:Webhooks:MaxConcurrentPerTenant and MaxConcurrentPerHost must be at least 1.")
            .Validate(settings => settings.Limits.StreamsPerCredential >= 1, "Hub:Limits:StreamsPerCredential must be at least 1.")
            .Validate(settings => settings.Limits.ConnectionsPerSession >= 0, "Hub:Limits:ConnectionsPerSession must be 0 (unlimited) or more.")
            .Validate(settings => settings.Limits.StreamCredentialCheck > TimeSpan.Zero, "Hub:Limits:StreamCredentialCheck must be longer than 00:00:00.")
            .Validate(settings => settings.ScreenPop.MaxConcurrentLookupsPerTenant >= 1, "Hub:ScreenPop:MaxConcurrentLookupsPerTenant must be at least 1.")
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
        services.AddMetrics();
        services.AddSingleton<StoreMetrics>();
        services.AddHostedService<MigrationHostedService>();
        services.AddSingleton<ContactDirectory>();
        services.AddHubDataProtection(configuration);
        services.AddSingleton<CrmLookupSecrets>();
        services.AddSingleton<TenantConfigReader>();
        services.AddHostedService<CrmLookupSecretUpgrade>();
        services.AddSingleton<PhoneNumberUpgrade>();
        services.AddHostedService<PhoneNumberUpgradeService>();
        return services;
    }

    /// <summary>
    /// For a command that works on the store without starting the host (<c>rotate-admin-key</c>,
    /// <c>rotate-embed-token-key</c>): the migrations, then the key ring's checks and first key, as a start does.
    /// </summary>
    public static async Task PrepareStoreAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        await services.GetRequiredService<Migrator>().ApplyAsync(cancellationToken);
        await services.GetRequiredService<KeyRingBootstrap>().StartAsync(cancellationToken);
    }

    private sealed class MigrationHostedService(Migrator migrator) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => migrator.ApplyAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
