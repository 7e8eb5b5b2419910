using Microsoft.AspNetCore.Diagnostics;

namespace Hub.Api.Infrastructure;

/// <summary>Turns the exceptions a request can end with into problem+json; nothing else leaks out.</summary>
internal sealed class HubProblemExceptionHandler(ILogger<HubProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case HubProblemException problem:
                await HubProblems.WriteAsync(httpContext, problem.Status, problem.Code, problem.Detail, problem.Extensions);
                return true;
            case BadHttpRequestException badRequest when badRequest.StatusCode == StatusCodes.Status413PayloadTooLarge:
                await HubProblems.WriteAsync(httpContext, 413, "payload_too_large", badRequest.Message);
                return true;
            case BadHttpRequestException badRequest:
                // Minimal APIs report an unreadable JSON body this way; the inner exception says where.
                var detail = badRequest.InnerException?.Message ?? badRequest.Message;
                await HubProblems.WriteAsync(httpContext, StatusCodes.Status400BadRequest, "invalid_request", detail);
                return true;
            case BusUnavailableException or MassTransit.MassTransitException:
                logger.LogWarning(exception, "Bus unavailable for {Path}", httpContext.Request.Path);
                await HubProblems.WriteAsync(httpContext, StatusCodes.Status503ServiceUnavailable, "bus_unavailable",
                    "The message bus is not reachable; retry shortly.");
                return true;
            default:
                logger.LogError(exception, "Unhandled error for {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
                await HubProblems.WriteAsync(httpContext, StatusCodes.Status500InternalServerError, "internal_error",
                    "The hub failed to handle this request; it has been logged.");
                return true;
        }
    }
}
