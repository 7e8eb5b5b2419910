using Hub.Store.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

// In Hub.Store, beside AddHubStore, so each host's start-up needs no extra using.
namespace Hub.Store;

public static class LoggingExtensions
{
    /// <summary>
    /// Masks credentials in every log entry of the process, whatever its level, category or provider
    /// (<see cref="RedactingLoggerFactory"/>). Call after the host's own logging set-up: it decorates
    /// the <see cref="ILoggerFactory"/> that set-up registered.
    /// </summary>
    public static ILoggingBuilder AddHubLogRedaction(this ILoggingBuilder logging)
    {
        logging.Services.TryAddSingleton<LoggerFactory>();
        logging.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(provider =>
        {
            var configuration = provider.GetRequiredService<IConfiguration>();
            // A configured admin key may have any form (no hubk_ prefix), so it is masked as it is.
            var redactor = new LogRedactor([configuration[$"{HubSettings.Section}:{nameof(HubSettings.AdminApiKey)}"]]);
            return new RedactingLoggerFactory(provider.GetRequiredService<LoggerFactory>(), redactor);
        }));
        return logging;
    }
}
