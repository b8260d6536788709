# The module as PowerShell sees it: the manifest, what it exports, its views.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $module = Import-Module (Get-ModulePath) -Force -PassThru
}

Describe 'The DeepSentinel module' {
    It 'has a valid manifest (Test-ModuleManifest)' {
        $manifest = Test-ModuleManifest (Join-Path (Get-ModulePath) 'DeepSentinel.psd1')
        $manifest.Name | Should -Be 'DeepSentinel'
        $manifest.PrivateData.PSData.ReleaseNotes | Should -Match 'pwsh|PowerShell'
    }

    It 'exports exactly the cmdlets of its assembly' {
        $inAssembly = [DeepSentinel.Cmdlets.Commands.GetSentinelSceneCommand].Assembly.GetTypes() |
            Where-Object { $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]; "$($a.VerbName)-$($a.NounName)" }
        ($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be ($inAssembly | Sort-Object)
    }

    It 'state-changing cmdlets support -WhatIf and -Confirm' -ForEach @(
        'New-DemoCatalog', 'New-PatchSample', 'Copy-Corpus', 'Add-CorineLabel', 'Add-OsmLabel', 'Start-Pretraining' | ForEach-Object { @{ Name = $_ } }
    ) {
        (Get-Command $Name).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command $Name).Parameters.Keys | Should -Contain 'Confirm'
    }

    It 'declares output types' -ForEach @((Get-Command -Module DeepSentinel | ForEach-Object { @{ Name = $_.Name } })) {
        (Get-Command $Name).OutputType | Should -Not -BeNullOrEmpty
    }

    It 'has no -ThrottleLimit that means libtorch threads' {
        (Get-Command Start-Pretraining).Parameters.Keys | Should -Not -Contain 'ThrottleLimit'
        (Get-Command Get-Embedding).Parameters.Keys | Should -Contain 'IntraOpThreads'
    }
}
