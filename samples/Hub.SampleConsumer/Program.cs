using Microsoft.Extensions.Hosting;

namespace Hub.SampleConsumer;

// Not top-level statements: their Program class would clash with Hub.Api's in the tests that run this sample.
internal static class SampleProgram
{
    /// <summary><c>dotnet run --project samples/Hub.SampleConsumer -- --RabbitMq=amqp://hub:hub@localhost:5672/ --Queue=acme-crm-calls</c></summary>
    public static void Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddSampleConsumer(
            new Uri(builder.Configuration["RabbitMq"] ?? "amqp://guest:guest@localhost:5672/"),
            builder.Configuration["Queue"] ?? SampleBus.DefaultQueue);
        builder.Build().Run();
    }
}
