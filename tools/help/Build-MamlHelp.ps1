#Requires -Version 7.4
<#
.SYNOPSIS
    Compiles DeepSentinel's markdown help (docs/en-US/<Verb-Noun>.md, platyPS layout) into MAML.
.DESCRIPTION
    Imports the laid-out module, and for each markdown file writes one command:command entry of
    the MAML that Get-Help reads. Names, syntax and parameter metadata (type, required, position,
    pipeline input, aliases, parameter sets) come from the loaded cmdlets, so they cannot drift
    from the code; text (synopsis, description, examples, parameter descriptions, inputs,
    outputs, notes, links) comes from the markdown. A parameter without a `### -Name` section is
    described by its HelpMessage. Throws when the markdown and the module disagree (a cmdlet
    without a file, a file or parameter section the module lacks), when a cmdlet has fewer than
    two examples, or when SYNOPSIS or DESCRIPTION is empty.
.EXAMPLE
    ./tools/help/Build-MamlHelp.ps1 -ModulePath ./out/DeepSentinel
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/DeepSentinel'),
    [string] $MarkdownFolder = (Join-Path $PSScriptRoot '../../docs/en-US'),
    [string] $OutFile
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
$common = [System.Management.Automation.PSCmdlet]::CommonParameters
$shouldProcess = [ordered]@{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

# ---- markdown ----------------------------------------------------------------------------------

# Splits a markdown file into its title and ## sections, each with its lead lines and ### subsections.
function Read-HelpMarkdown([string] $Path) {
    $doc = [pscustomobject]@{ Name = $null; Sections = [ordered]@{} }
    $section = $null; $sub = $null; $fence = $false
    foreach ($line in (Get-Content -LiteralPath $Path -Encoding utf8)) {
        if ($line -match '^\s*```') { $fence = -not $fence }
        if (-not $fence -and $line -match '^(#{1,3})\s+(.+?)\s*$') {
            $level, $text = $Matches[1].Length, $Matches[2]
            if ($level -eq 1) { $doc.Name = $text; continue }
            if ($level -eq 2) {
                $section = [pscustomobject]@{ Lines = [Collections.Generic.List[string]]::new(); Subs = [Collections.Generic.List[object]]::new() }
                $doc.Sections[$text.ToUpperInvariant()] = $section; $sub = $null; continue
            }
            if ($null -ne $section) {
                $sub = [pscustomobject]@{ Title = $text; Lines = [Collections.Generic.List[string]]::new() }
                $section.Subs.Add($sub); continue
            }
        }
        if ($null -ne $sub) { $sub.Lines.Add($line) } elseif ($null -ne $section) { $section.Lines.Add($line) }
    }
    if ($fence) { throw "$Path has an unclosed ``````` code fence." }
    $doc
}

# Inline markdown to plain text: code spans, emphasis and links.
function ConvertFrom-Inline([string] $Text) {
    $Text = $Text -replace '\[([^\]]+)\]\(([^)]+)\)', '$1 ($2)'
    $Text = $Text -replace '\*\*([^*]+)\*\*', '$1'
    $Text -replace '`([^`]+)`', '$1'
}

# Markdown lines to paragraphs: prose is joined into one line per paragraph; lists keep one line
# per item; fenced and indented code keep their lines, indented by four spaces. Get-Help trims the
# start of each paragraph, so code is appended to the paragraph before it to keep its indentation.
function ConvertTo-Paragraph([string[]] $Lines) {
    $paras = [Collections.Generic.List[string]]::new()
    $block = [Collections.Generic.List[string]]::new()
    $state = @{ Code = $false }
    $addCode = {
        param([string[]] $CodeLines)
        $text = ($CodeLines | ForEach-Object { '    ' + $_.TrimEnd() }) -join "`n"
        if ($paras.Count) { $paras[$paras.Count - 1] += $(if ($state.Code) { "`n`n" } else { "`n" }) + $text } else { $paras.Add($text) }
        $state.Code = $true
    }
    $flush = {
        if ($block.Count -eq 0) { return }
        if ($block[0] -match '^( {4}|\t)') {
            & $addCode @($block | ForEach-Object { $_ -replace '^( {4}|\t)', '' })
        } elseif ($block[0] -match '^\s*([-*+]|\d+\.)\s') {
            $items = [Collections.Generic.List[string]]::new()
            foreach ($l in $block) {
                if ($l -match '^\s*([-*+]|\d+\.)\s+(.*)$') { $items.Add($(if ($Matches[1] -match '\d') { $Matches[1] } else { '-' }) + ' ' + $Matches[2]) }
                else { $items[$items.Count - 1] += ' ' + $l.Trim() }
            }
            $paras.Add((($items | ForEach-Object { ConvertFrom-Inline $_ }) -join "`n")); $state.Code = $false
        } else {
            $paras.Add((ConvertFrom-Inline (($block | ForEach-Object Trim) -join ' '))); $state.Code = $false
        }
        $block.Clear()
    }
    $code = $null
    foreach ($line in $Lines) {
        if ($null -ne $code) {
            if ($line -match '^\s*```\s*$') { & $addCode $code.ToArray(); $code = $null }
            else { $code.Add($line) }
        } elseif ($line -match '^\s*```') { & $flush; $code = [Collections.Generic.List[string]]::new() }
        elseif ($line.Trim() -eq '') { & $flush }
        else { $block.Add($line) }
    }
    & $flush
    , $paras.ToArray()
}

# An example subsection: the first ```powershell fence is the code, everything after it the remarks.
function Split-Example($Sub, [string] $Where) {
    $start = -1; $end = -1
    for ($i = 0; $i -lt $Sub.Lines.Count; $i++) {
        if ($start -lt 0 -and $Sub.Lines[$i] -match '^\s*```(powershell|pwsh|ps1?)\s*$') { $start = $i }
        elseif ($start -ge 0 -and $Sub.Lines[$i] -match '^\s*```\s*$') { $end = $i; break }
    }
    if ($start -lt 0 -or $end -lt 0) { throw "$Where '$($Sub.Title)' has no ``````powershell code block." }
    $code = ($Sub.Lines[($start + 1)..($end - 1)] -join "`n").Trim()
    if (-not $code) { throw "$Where '$($Sub.Title)' has an empty code block." }
    $before = if ($start -gt 0) { $Sub.Lines[0..($start - 1)] } else { @() }
    $after = if ($end + 1 -lt $Sub.Lines.Count) { $Sub.Lines[($end + 1)..($Sub.Lines.Count - 1)] } else { @() }
    [pscustomobject]@{ Title = $Sub.Title; Code = $code; Remarks = ConvertTo-Paragraph (@($before) + @($after)) }
}

# ---- cmdlet metadata ---------------------------------------------------------------------------

function Get-TypeText([type] $Type, [switch] $Full) {
    $t = if ($Type.IsArray) { $Type.GetElementType() } else { $Type }
    $t = [Nullable]::GetUnderlyingType($t) ?? $t
    ($(if ($Full) { $t.FullName } else { $t.Name })) + $(if ($Type.IsArray) { '[]' } else { '' })
}

# The values offered in syntax: enum names or a ValidateSet.
function Get-ParameterValueSet($Info) {
    $set = $Info.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
    if ($set) { return $set.ValidValues }
    $t = if ($Info.ParameterType.IsArray) { $Info.ParameterType.GetElementType() } else { $Info.ParameterType }
    $t = [Nullable]::GetUnderlyingType($t) ?? $t
    if ($t.IsEnum) { [Enum]::GetNames($t) } else { @() }
}

function Get-PipelineText($Infos) {
    $kinds = @(if ($Infos | Where-Object ValueFromPipeline) { 'ByValue' }) + @(if ($Infos | Where-Object ValueFromPipelineByPropertyName) { 'ByPropertyName' })
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

# ---- MAML writer -------------------------------------------------------------------------------

function Write-Para([System.Xml.XmlWriter] $W, [string[]] $Paras) {
    foreach ($p in $Paras) { $W.WriteElementString('maml', 'para', $ns.maml, $p) }
}

function Write-Parameter([System.Xml.XmlWriter] $W, $Infos, [string[]] $Description, [bool] $InSyntax) {
    $first = $Infos[0]
    $positions = @($Infos | Where-Object Position -ge 0 | ForEach-Object Position | Select-Object -Unique)
    $W.WriteStartElement('command', 'parameter', $ns.command)
    $W.WriteAttributeString('required', "$(@($Infos | Where-Object { -not $_.IsMandatory }).Count -eq 0)".ToLowerInvariant())
    $W.WriteAttributeString('variableLength', "$($first.ParameterType.IsArray)".ToLowerInvariant())
    $W.WriteAttributeString('globbing', 'false')
    $W.WriteAttributeString('pipelineInput', (Get-PipelineText $Infos))
    $W.WriteAttributeString('position', $(if ($positions.Count) { "$($positions[0])" } else { 'named' }))
    $W.WriteAttributeString('aliases', $(if ($first.Aliases.Count) { $first.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('maml', 'name', $ns.maml, $first.Name)
    if (-not $InSyntax) {
        $W.WriteStartElement('maml', 'description', $ns.maml); Write-Para $W $Description; $W.WriteEndElement()
    }
    $isSwitch = $first.ParameterType -eq [switch]
    $values = @(Get-ParameterValueSet $first)
    if ($InSyntax -and $values) {
        $W.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($v in $values) {
            $W.WriteStartElement('command', 'parameterValue', $ns.command)
            $W.WriteAttributeString('required', 'false'); $W.WriteAttributeString('variableLength', 'false')
            $W.WriteString($v); $W.WriteEndElement()
        }
        $W.WriteEndElement()
    } elseif (-not ($InSyntax -and $isSwitch)) {
        $W.WriteStartElement('command', 'parameterValue', $ns.command)
        $W.WriteAttributeString('required', "$(-not $isSwitch)".ToLowerInvariant())
        $W.WriteAttributeString('variableLength', "$($first.ParameterType.IsArray)".ToLowerInvariant())
        $W.WriteString((Get-TypeText $first.ParameterType)); $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $ns.dev)
    $W.WriteElementString('maml', 'name', $ns.maml, (Get-TypeText $first.ParameterType -Full))
    $W.WriteEndElement()
    if ($isSwitch) { $W.WriteElementString('dev', 'defaultValue', $ns.dev, 'False') }
    $W.WriteEndElement()
}

function Write-TypeList([System.Xml.XmlWriter] $W, [string] $List, [string] $Item, $Section) {
    $W.WriteStartElement('command', $List, $ns.command)
    foreach ($sub in @(if ($Section) { $Section.Subs })) {
        $W.WriteStartElement('command', $Item, $ns.command)
        $W.WriteStartElement('dev', 'type', $ns.dev); $W.WriteElementString('maml', 'name', $ns.maml, $sub.Title); $W.WriteEndElement()
        $W.WriteStartElement('maml', 'description', $ns.maml); Write-Para $W (ConvertTo-Paragraph $sub.Lines); $W.WriteEndElement()
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
}

function Write-Command([System.Xml.XmlWriter] $W, $Doc, [System.Management.Automation.CmdletInfo] $Cmd, [string] $File) {
    $sec = $Doc.Sections
    $synopsis = ConvertTo-Paragraph @(if ($sec['SYNOPSIS']) { $sec['SYNOPSIS'].Lines })
    $description = ConvertTo-Paragraph @(if ($sec['DESCRIPTION']) { $sec['DESCRIPTION'].Lines })
    if (-not $synopsis) { throw "$File`: ## SYNOPSIS is missing or empty." }
    if (-not $description) { throw "$File`: ## DESCRIPTION is missing or empty." }
    $examples = @(foreach ($sub in @(if ($sec['EXAMPLES']) { $sec['EXAMPLES'].Subs })) { Split-Example $sub "$File`: example" })
    if ($examples.Count -lt 2) { throw "$File`: $($Cmd.Name) has $($examples.Count) example(s) under ## EXAMPLES; at least 2 are required." }

    # Parameters: every non-common one from the cmdlet, with its entries in every parameter set.
    $infos = [ordered]@{}
    foreach ($set in $Cmd.ParameterSets) {
        foreach ($p in $set.Parameters) {
            if ($p.Name -in $common) { continue }
            if (-not $infos.Contains($p.Name)) { $infos[$p.Name] = [Collections.Generic.List[object]]::new() }
            $infos[$p.Name].Add([pscustomobject]@{ Set = $set; Info = $p })
        }
    }
    $written = [ordered]@{}
    foreach ($sub in @(if ($sec['PARAMETERS']) { $sec['PARAMETERS'].Subs })) {
        $name = $sub.Title -replace '^-', ''
        if (-not $infos.Contains($name)) { throw "$File`: ### $($sub.Title) documents a parameter that $($Cmd.Name) does not have." }
        $paras = ConvertTo-Paragraph $sub.Lines
        if (-not $paras) { throw "$File`: ### $($sub.Title) is empty." }
        $written[$name] = $paras
    }
    $descriptions = [ordered]@{}
    foreach ($name in @($written.Keys) + @($infos.Keys | Where-Object { $_ -notin $written.Keys -and $_ -notin $shouldProcess.Keys }) + @($shouldProcess.Keys | Where-Object { $_ -in $infos.Keys -and $_ -notin $written.Keys })) {
        if ($written.Contains($name)) { $descriptions[$name] = $written[$name]; continue }
        $entries = $infos[$name] | Sort-Object { -not $_.Set.IsDefault } -Stable
        $messages = @($entries | ForEach-Object { $_.Info.HelpMessage } | Where-Object { $_ } | Select-Object -Unique)
        $descriptions[$name] = if ($messages) { $messages } elseif ($shouldProcess.Contains($name)) { $shouldProcess[$name] } else { throw "$File`: -$name of $($Cmd.Name) has neither a ### -$name section nor a HelpMessage." }
    }
    foreach ($name in @($descriptions.Keys)) {
        $entries = $infos[$name]
        $mandatory = @($entries | Where-Object { $_.Info.IsMandatory } | ForEach-Object { $_.Set.Name })
        if ($mandatory -and $mandatory.Count -lt $entries.Count) { $descriptions[$name] = @($descriptions[$name]) + "Required in the $($mandatory -join ', ') parameter set(s); optional in the others." }
    }

    $W.WriteStartElement('command', 'command', $ns.command)
    $W.WriteStartElement('command', 'details', $ns.command)
    $W.WriteElementString('command', 'name', $ns.command, $Cmd.Name)
    $W.WriteStartElement('maml', 'description', $ns.maml); Write-Para $W $synopsis; $W.WriteEndElement()
    $W.WriteElementString('command', 'verb', $ns.command, $Cmd.Verb)
    $W.WriteElementString('command', 'noun', $ns.command, $Cmd.Noun)
    $W.WriteEndElement()
    $W.WriteStartElement('maml', 'description', $ns.maml); Write-Para $W $description; $W.WriteEndElement()

    $W.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $Cmd.ParameterSets | Sort-Object { -not $_.IsDefault } -Stable) {
        $W.WriteStartElement('command', 'syntaxItem', $ns.command)
        $W.WriteElementString('maml', 'name', $ns.maml, $Cmd.Name)
        $ordered = $set.Parameters | Where-Object Name -NotIn $common |
            Sort-Object { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } }, { -not $_.IsMandatory }, { $_.Name -in $shouldProcess.Keys } -Stable
        foreach ($p in $ordered) { Write-Parameter $W @($p) @() $true }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($name in $descriptions.Keys) { Write-Parameter $W @($infos[$name].Info) $descriptions[$name] $false }
    $W.WriteEndElement()

    Write-TypeList $W 'inputTypes' 'inputType' $sec['INPUTS']
    Write-TypeList $W 'returnValues' 'returnValue' $sec['OUTPUTS']
    $declared = @($Cmd.OutputType | ForEach-Object Name)
    foreach ($t in @(if ($sec['OUTPUTS']) { $sec['OUTPUTS'].Subs | ForEach-Object Title })) {
        if ($t -notin $declared) { Write-Warning "$File`: OUTPUTS names $t, but $($Cmd.Name) declares [OutputType] $($declared -join ', ')." }
    }
    $notes = ConvertTo-Paragraph @(if ($sec['NOTES']) { $sec['NOTES'].Lines })
    if ($notes) {
        $W.WriteStartElement('maml', 'alertSet', $ns.maml); $W.WriteStartElement('maml', 'alert', $ns.maml)
        Write-Para $W $notes; $W.WriteEndElement(); $W.WriteEndElement()
    }

    $W.WriteStartElement('command', 'examples', $ns.command)
    foreach ($ex in $examples) {
        $W.WriteStartElement('command', 'example', $ns.command)
        $W.WriteElementString('maml', 'title', $ns.maml, "---------- $($ex.Title) ----------")
        $W.WriteElementString('dev', 'code', $ns.dev, $ex.Code)
        $W.WriteStartElement('dev', 'remarks', $ns.dev); Write-Para $W (@($ex.Remarks) + ''); $W.WriteEndElement()
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($line in @(if ($sec['RELATED LINKS']) { $sec['RELATED LINKS'].Lines })) {
        if ($line -notmatch '^\s*[-*]\s+(.+?)\s*$') { continue }
        $text, $uri = $Matches[1], ''
        if ($text -match '^\[([^\]]+)\]\(([^)]*)\)$') { $text, $uri = $Matches[1], $Matches[2] }
        elseif ($text -match '^https?://') { $uri = $text }
        $W.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $W.WriteElementString('maml', 'linkText', $ns.maml, $text)
        $W.WriteElementString('maml', 'uri', $ns.maml, $uri)
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
    $W.WriteEndElement()
}

# ---- main --------------------------------------------------------------------------------------

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$MarkdownFolder = (Resolve-Path -LiteralPath $MarkdownFolder).ProviderPath
if (-not $OutFile) { $OutFile = Join-Path $ModulePath 'en-US/DeepSentinel.Cmdlets.dll-Help.xml' }
$OutFile = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)

$module = Import-Module $ModulePath -Force -PassThru -DisableNameChecking
$cmdlets = $module.ExportedCmdlets
$files = @(Get-ChildItem -LiteralPath $MarkdownFolder -Filter '*.md' -File | Sort-Object Name)
$docs = [ordered]@{}
foreach ($file in $files) {
    $doc = Read-HelpMarkdown $file.FullName
    if (-not $doc.Name) { throw "$($file.Name): no '# <Verb-Noun>' title line." }
    if ($doc.Name -ne $file.BaseName) { throw "$($file.Name): its title '# $($doc.Name)' does not match the file name." }
    if (-not $cmdlets.ContainsKey($doc.Name)) { throw "$($file.Name) documents $($doc.Name), which module $($module.Name) does not export." }
    $docs[$doc.Name] = $doc
}
$missing = @($cmdlets.Keys | Where-Object { -not $docs.Contains($_) } | Sort-Object)
if ($missing) { throw "No markdown help in $MarkdownFolder for: $($missing -join ', '). Add <Verb-Noun>.md for each." }

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; IndentChars = '  '; Encoding = [System.Text.UTF8Encoding]::new($false) }
$buffer = [System.IO.MemoryStream]::new()
$w = [System.Xml.XmlWriter]::Create($buffer, $settings)
$w.WriteStartDocument()
$w.WriteStartElement('helpItems')
$w.WriteAttributeString('schema', 'maml')
foreach ($prefix in $ns.Keys) { $w.WriteAttributeString('xmlns', $prefix, $null, $ns[$prefix]) }
foreach ($name in $docs.Keys) { Write-Command $w $docs[$name] $cmdlets[$name] "$name.md" }
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Flush()

# Written only when every command compiled, so a failed run never leaves half a help file.
$null = New-Item -ItemType Directory -Force -Path (Split-Path $OutFile)
[System.IO.File]::WriteAllBytes($OutFile, $buffer.ToArray())
Write-Verbose "Wrote help for $($docs.Count) cmdlets to $OutFile"
Get-Item -LiteralPath $OutFile
