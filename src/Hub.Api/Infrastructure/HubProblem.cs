namespace Hub.Api.Infrastructure;

/// <summary>
/// Every error the API returns: RFC 9457 problem+json with a machine-readable <c>code</c>. Thrown from
/// anywhere in a request; <see cref="HubProblemExceptionHandler"/> writes it.
/// </summary>
public sealed class HubProblemException(int status, string code, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    : Exception($"{code}: {detail}")
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Detail { get; } = detail;
    public IReadOnlyDictionary<string, object?>? Extensions { get; } = extensions;

    public static HubProblemException BadRequest(string code, string detail, IReadOnlyDictionary<string, object?>? extensions = null) =>
        new(StatusCodes.Status400BadRequest, code, detail, extensions);

    public static HubProblemException NotFound(string code, string detail) => new(StatusCodes.Status404NotFound, code, detail);

    public static HubProblemException Forbidden(string code, string detail) => new(StatusCodes.Status403Forbidden, code, detail);

    public static HubProblemException Unauthorized(string code, string detail) => new(StatusCodes.Status401Unauthorized, code, detail);

    public static HubProblemException Conflict(string code, string detail) => new(StatusCodes.Status409Conflict, code, detail);

    public static HubProblemException Unavailable(string code, string detail) => new(StatusCodes.Status503ServiceUnavailable, code, detail);
}

public static class HubProblems
{
    public static IResult Result(int status, string code, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = code };
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            all[key] = value;
        }

        return Results.Problem(statusCode: status, title: Title(code), detail: detail, extensions: all);
    }

    public static Task WriteAsync(HttpContext context, int status, string code, string detail, IReadOnlyDictionary<string, object?>? extensions = null) =>
        Result(status, code, detail, extensions).ExecuteAsync(context);

    /// <summary>"agent_offline" reads as "Agent offline".</summary>
    private static string Title(string code) =>
        code.Length == 0 ? "Error" : char.ToUpperInvariant(code[0]) + code[1..].Replace('_', ' ');
}
