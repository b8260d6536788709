using System.Reflection;
using System.Text.RegularExpressions;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Diagnostics;

/// <summary>
/// The README's error-id table is the reference scripts match on: it must list every stable id
/// once, no more, and say in plain words what each means and under which categories it is raised.
/// </summary>
public sealed partial class ErrorTableTests
{
    private static readonly string[] Categories = Enum.GetNames<ErrorKind>();

    [Fact]
    public void ReadmeErrorTableListsEveryErrorIdOnce()
    {
        var ids = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());

        var rows = ReadErrorTable();
        var duplicates = rows.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "README error table lists these ids more than once: " + string.Join(", ", duplicates));

        var missing = ids.Except(rows.Select(r => r.Id)).ToList();
        Assert.True(missing.Count == 0, "README error table lacks these ErrorIds: " + string.Join(", ", missing));
        var unknown = rows.Select(r => r.Id).Except(ids).ToList();
        Assert.True(unknown.Count == 0, "README error table lists ids that ErrorIds does not define: " + string.Join(", ", unknown));
    }

    [Fact]
    public void ReadmeErrorTableRowsArePlainSentencesWithAKnownCategory()
    {
        foreach (var (id, meaning, category) in ReadErrorTable())
        {
            Assert.False(string.IsNullOrWhiteSpace(meaning), $"{id}: no meaning");
            Assert.DoesNotMatch(@"///|<summary>|</summary>|public static|\{", meaning);
            Assert.True(meaning.Length < 400, $"{id}: the meaning runs to {meaning.Length} characters");
            // A category cell names ErrorKinds; a per-item wrapper (SampleFailed, CorpusCopyFailed, ...) may
            // carry its cause's category instead, and the cell may say so in words.
            var named = Regex.Matches(category, "[A-Z][A-Za-z]+").Select(m => m.Value).ToList();
            Assert.True(named.Count > 0 || category.Contains("that of its cause", StringComparison.Ordinal), $"{id}: the category cell '{category}' names no category");
            foreach (var one in named)
            {
                Assert.True(Categories.Contains(one), $"{id}: category '{one}' is not an ErrorKind");
            }
        }
    }

    private static List<(string Id, string Meaning, string Category)> ReadErrorTable()
    {
        var lines = File.ReadAllLines(Path.Combine(TestData.RepositoryRoot, "README.md"));
        var header = Array.FindIndex(lines, l => l.StartsWith("| id | meaning | category |", StringComparison.Ordinal));
        Assert.True(header >= 0, "README.md has no error table (a '| id | meaning | category |' header).");
        var rows = new List<(string, string, string)>();
        for (var i = header + 2; i < lines.Length && lines[i].StartsWith('|'); i++)
        {
            var m = RowPattern().Match(lines[i]);
            Assert.True(m.Success, $"README.md line {i + 1} is not an error-table row: {lines[i]}");
            rows.Add((m.Groups["id"].Value, m.Groups["meaning"].Value.Trim(), m.Groups["category"].Value.Trim()));
        }

        Assert.NotEmpty(rows);
        return rows;
    }

    [GeneratedRegex(@"^\| `(?<id>[A-Za-z]+)` \| (?<meaning>.+) \| (?<category>[^|]+) \|$")]
    private static partial Regex RowPattern();
}
