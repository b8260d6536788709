#Requires -Version 7.4
# Pester 5 suite for DeepSentinel's cmdlet help: the MAML compiled from docs/en-US by
# tools/help/Build-MamlHelp.ps1 is complete, and every example in the markdown runs offline.
#
#   $env:DEEPSENTINEL_MODULE         the laid-out module folder (default: <repo>/out/DeepSentinel)
#   $env:DEEPSENTINEL_TEST_FIXTURES  a folder with demo/, corpus/ and model/ (default: built here
#                                    in a temporary folder, with the commands in BeforeAll)
#
#   pwsh -NoProfile -c 'Import-Module ~/.nuget/packages/pester/5.7.1/tools/Pester.psd1; Invoke-Pester ./tests/Module/Help.Tests.ps1 -Output Detailed'
#
# Running the examples takes a few minutes; -ExcludeTag Examples leaves them out.

BeforeDiscovery {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    $docs = Join-Path $repo 'docs/en-US'

    # The examples, read from the markdown the same way the generator reads them: each
    # '### <title>' under '## EXAMPLES', and its first ```powershell block.
    $examples = foreach ($file in Get-ChildItem $docs -Filter *.md | Sort-Object Name) {
        $section = $null; $title = $null; $code = $null; $n = 0; $fence = $false
        foreach ($line in Get-Content $file.FullName) {
            if ($null -ne $code) {
                if ($line -match '^\s*```\s*$') {
                    @{ Cmdlet = $file.BaseName; Number = $n; Title = $title; Code = ($code -join "`n") }
                    $code = $null; $title = $null
                } else { $code.Add($line) }
                continue
            }
            if ($line -match '^\s*```') {
                $fence = -not $fence
                if ($fence -and $section -eq 'EXAMPLES' -and $title -and $line -match '```(powershell|pwsh|ps1?)\s*$') {
                    $code = [Collections.Generic.List[string]]::new(); $fence = $false
                }
                continue
            }
            if ($fence) { continue }
            if ($line -match '^##\s+(.+?)\s*$') { $section = $Matches[1].ToUpperInvariant(); continue }
            if ($section -eq 'EXAMPLES' -and $line -match '^###\s+(.+?)\s*$') {
                $n++; $title = $Matches[1] -replace '^Example\s+\d+\s*:\s*', ''
            }
        }
    }
    $cmdletNames = @(Get-ChildItem $docs -Filter *.md | ForEach-Object BaseName | Sort-Object)
}

BeforeAll {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    $script:Docs = Join-Path $repo 'docs/en-US'
    $script:Generator = Join-Path $repo 'tools/help/Build-MamlHelp.ps1'
    $script:ModulePath = if ($env:DEEPSENTINEL_MODULE) { $env:DEEPSENTINEL_MODULE } else { Join-Path $repo 'out/DeepSentinel' }
    $script:ModulePath = (Resolve-Path $script:ModulePath).ProviderPath
    # The pwsh that runs this suite (a .NET tool install runs as 'dotnet pwsh.dll').
    $script:Pwsh = @([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension($script:Pwsh[0]) -ne 'pwsh') {
        $onPath = Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        $script:Pwsh = @(if ($onPath) { $onPath.Source } else { $script:Pwsh[0], (Join-Path $PSHOME 'pwsh.dll') })
    }
    $script:Temp = Join-Path ([IO.Path]::GetTempPath()) "ds-help-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Path $script:Temp

    # Runs a script in a child pwsh (-NoProfile -NonInteractive -Command) with the module
    # imported, in $WorkingDirectory; returns the exit code, stdout and stderr.
    function script:Invoke-Child([string] $Code, [string] $WorkingDirectory) {
        $prelude = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; Import-Module '$($script:ModulePath -replace "'", "''")'"
        $psi = [Diagnostics.ProcessStartInfo]::new($script:Pwsh[0])
        foreach ($a in @($script:Pwsh | Select-Object -Skip 1) + '-NoProfile', '-NonInteractive', '-Command', "$prelude`n$Code") { $psi.ArgumentList.Add($a) }
        $psi.WorkingDirectory = $WorkingDirectory
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        $psi.Environment['NO_COLOR'] = '1'
        $p = [Diagnostics.Process]::Start($psi)
        $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Output = $out.Result; Errors = $err.Result }
    }

    # Fixtures: demo/ (New-DemoCatalog), corpus/ (16 labelled samples) and model/ (one epoch).
    $script:Fixtures = $env:DEEPSENTINEL_TEST_FIXTURES
    if (-not $script:Fixtures) {
        $script:Fixtures = Join-Path $script:Temp 'fixtures'
        $null = New-Item -ItemType Directory -Path $script:Fixtures
        $r = Invoke-Child -WorkingDirectory $script:Fixtures -Code @'
$demo = New-DemoCatalog ./demo
New-PatchSample ./corpus -Catalog ./demo -Start 2019-08-01 -End 2019-08-20 -Count 16 -Seed 1 |
    Add-CorineLabel ./demo/labels/clc2018.tif |
    Add-OsmLabel ./demo/labels/osm.osm | Out-Null
Get-PatchSample ./corpus | Start-Pretraining ./model -Epochs 1 -BatchSize 8 -EmbeddingDimension 16 | Out-Null
'@
        if ($r.ExitCode -ne 0) { throw "Building the fixtures failed:`n$($r.Output)`n$($r.Errors)" }
    }
    foreach ($f in 'demo', 'corpus', 'model') {
        if (-not (Test-Path (Join-Path $script:Fixtures $f))) { throw "The fixtures folder $($script:Fixtures) has no $f/." }
    }

    # The MAML, compiled into the module when it has none yet.
    $script:HelpFile = Join-Path $script:ModulePath 'en-US/DeepSentinel.Cmdlets.dll-Help.xml'
    if (-not (Test-Path $script:HelpFile)) {
        $r = Invoke-Child -WorkingDirectory $script:Temp -Code "& '$script:Generator' -ModulePath '$script:ModulePath' | Out-Null"
        if ($r.ExitCode -ne 0) { throw "Build-MamlHelp.ps1 failed:`n$($r.Output)`n$($r.Errors)" }
    }
    Import-Module $script:ModulePath -Force
}

AfterAll {
    if ($script:Temp -and (Test-Path $script:Temp)) { Remove-Item $script:Temp -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'The module manifest' {
    It 'passes Test-ModuleManifest' {
        $manifest = Test-ModuleManifest (Join-Path $script:ModulePath 'DeepSentinel.psd1') -ErrorAction Stop
        $manifest.Name | Should -Be 'DeepSentinel'
    }

    It 'exports exactly the cmdlets that have markdown help' {
        $exported = (Get-Module DeepSentinel).ExportedCmdlets.Keys | Sort-Object
        $documented = Get-ChildItem $script:Docs -Filter *.md | ForEach-Object BaseName | Sort-Object
        $documented | Should -Be $exported
    }
}

Describe 'Get-Help <_>' -ForEach $cmdletNames {
    BeforeAll {
        $name = $_
        $help = Get-Help $name -Full
        $command = Get-Command $name
    }

    It 'has a synopsis, not the generated syntax stub' {
        "$($help.Synopsis)".Trim() | Should -Not -BeNullOrEmpty
        "$($help.Synopsis)".Trim() | Should -Not -BeLike "$name *"
        "$($help.Synopsis)" | Should -Not -Match 'CommonParameters'
    }

    It 'has a description' {
        ($help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every non-common parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters
        $expected = $command.Parameters.Keys | Where-Object { $_ -notin $common }
        $documented = @{}
        foreach ($p in $help.parameters.parameter) { $documented[$p.name] = ($p.description.Text -join '').Trim() }
        foreach ($p in $expected) {
            $documented.ContainsKey($p) | Should -BeTrue -Because "-$p is a parameter of $name"
            $documented[$p] | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }

    It 'has a syntax entry per parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @($command.ParameterSets).Count
    }

    It 'has at least two examples, with code' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($e in $examples) { "$($e.code)".Trim() | Should -Not -BeNullOrEmpty }
    }
}

Describe 'The examples in docs/en-US' -Tag 'Examples' {
    It 'shows the markdown code unchanged in Get-Help: <Cmdlet> example <Number>' -ForEach $examples {
        $compiled = @((Get-Help $Cmdlet -Full).examples.example)[$Number - 1].code
        ($compiled -replace '\r', '') | Should -Be $Code
    }

    It '<Cmdlet> example <Number>: <Title>' -ForEach $examples {
        $work = Join-Path $script:Temp "$Cmdlet-$Number"
        $null = New-Item -ItemType Directory -Path $work
        try {
            # demo/ is only read, so a link is enough; corpus/ and model/ may be written to.
            try { $null = New-Item -ItemType SymbolicLink -Path (Join-Path $work 'demo') -Target (Join-Path $script:Fixtures 'demo') }
            catch { Copy-Item (Join-Path $script:Fixtures 'demo') $work -Recurse }
            Copy-Item (Join-Path $script:Fixtures 'corpus') $work -Recurse
            Copy-Item (Join-Path $script:Fixtures 'model') $work -Recurse

            $r = Invoke-Child -Code $Code -WorkingDirectory $work
            $because = "the example should run cleanly.`n--- output ---`n$($r.Output)`n--- errors ---`n$($r.Errors)"
            $r.ExitCode | Should -Be 0 -Because $because
            $r.Errors.Trim() | Should -BeNullOrEmpty -Because $because
        }
        finally {
            Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Build-MamlHelp.ps1' {
    BeforeAll {
        # Runs the generator on a copy of the markdown changed by $Change; returns its result.
        function script:Invoke-Generator([scriptblock] $Change) {
            $md = Join-Path $script:Temp "md-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
            Copy-Item $script:Docs $md -Recurse
            & $Change $md
            $out = Join-Path $md 'out.xml'
            $r = Invoke-Child -WorkingDirectory $script:Temp -Code "& '$script:Generator' -ModulePath '$script:ModulePath' -MarkdownFolder '$md' -OutFile '$out' | Out-Null"
            $r | Add-Member NoteProperty OutFile $out -PassThru
        }
    }

    It 'writes valid MAML with one command per cmdlet' {
        [xml] $xml = Get-Content $script:HelpFile -Raw
        $ns = [System.Xml.XmlNamespaceManager]::new($xml.NameTable)
        $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
        $ns.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
        $xml.DocumentElement.LocalName | Should -Be 'helpItems'
        $xml.DocumentElement.GetAttribute('schema') | Should -Be 'maml'
        $names = $xml.SelectNodes('/helpItems/command:command/command:details/command:name', $ns) | ForEach-Object InnerText
        ($names | Sort-Object) | Should -Be ((Get-Module DeepSentinel).ExportedCmdlets.Keys | Sort-Object)
    }

    It 'fails when a cmdlet has no markdown file' {
        $r = Invoke-Generator { param($md) Remove-Item (Join-Path $md 'Copy-Corpus.md') }
        $r.ExitCode | Should -Not -Be 0
        ($r.Errors + $r.Output) -replace "[\s|]+", " " | Should -Match 'No markdown help .* Copy-Corpus'
        Test-Path $r.OutFile | Should -BeFalse
    }

    It 'fails when a markdown file names a cmdlet the module lacks' {
        $r = Invoke-Generator { param($md) Copy-Item (Join-Path $md 'Copy-Corpus.md') (Join-Path $md 'Remove-Corpus.md'); (Get-Content (Join-Path $md 'Remove-Corpus.md')) -replace '^# Copy-Corpus', '# Remove-Corpus' | Set-Content (Join-Path $md 'Remove-Corpus.md') }
        $r.ExitCode | Should -Not -Be 0
        ($r.Errors + $r.Output) -replace "[\s|]+", " " | Should -Match 'Remove-Corpus\.md documents Remove-Corpus, which module DeepSentinel does not export'
    }

    It 'fails when a parameter section names a parameter the cmdlet lacks' {
        $r = Invoke-Generator { param($md) Add-Content (Join-Path $md 'Get-PatchSample.md') "`n## PARAMETERS`n`n### -NoSuchParameter`nText." }
        $r.ExitCode | Should -Not -Be 0
        ($r.Errors + $r.Output) -replace "[\s|]+", " " | Should -Match 'NoSuchParameter'
    }

    It 'fails when a cmdlet has fewer than two examples' {
        $r = Invoke-Generator { param($md)
            $f = Join-Path $md 'Import-EmbeddingModel.md'
            (Get-Content $f -Raw) -replace '(?s)### Example 2:.*?(?=## PARAMETERS)', '' | Set-Content $f }
        $r.ExitCode | Should -Not -Be 0
        ($r.Errors + $r.Output) -replace "[\s|]+", " " | Should -Match 'at least 2'
    }

    It 'fails when SYNOPSIS or DESCRIPTION is empty' {
        $r = Invoke-Generator { param($md)
            $f = Join-Path $md 'Get-Embedding.md'
            (Get-Content $f -Raw) -replace '(?s)(## SYNOPSIS\r?\n).*?(?=## DESCRIPTION)', '$1' | Set-Content $f }
        $r.ExitCode | Should -Not -Be 0
        ($r.Errors + $r.Output) -replace "[\s|]+", " " | Should -Match 'SYNOPSIS'
    }
}
