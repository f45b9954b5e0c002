import java.nio.file.Paths;
import net.sourceforge.pmd.PMDConfiguration;
import net.sourceforge.pmd.PmdAnalysis;
import net.sourceforge.pmd.lang.LanguageRegistry;
import net.sourceforge.pmd.reporting.Report;
import net.sourceforge.pmd.reporting.RuleViolation;

/**
 * Runs PMD's Apex rules (the PMD 7 jars bundled in @salesforce/code-analyzer-pmd-engine) over the
 * given paths with the given ruleset, prints one "file:line rule message" per violation or
 * processing error, and exits 1 when there is any. Usage: RunPmd ruleset.xml path...
 */
public class RunPmd {
    public static void main(String[] args) throws Exception {
        PMDConfiguration config = new PMDConfiguration();
        config.setDefaultLanguageVersion(LanguageRegistry.PMD.getLanguageById("apex").getDefaultVersion());
        config.addRuleSet(args[0]);
        for (int i = 1; i < args.length; i++) {
            config.addInputPath(Paths.get(args[i]));
        }
        try (PmdAnalysis pmd = PmdAnalysis.create(config)) {
            Report report = pmd.performAnalysisAndCollectReport();
            for (RuleViolation v : report.getViolations()) {
                System.out.println(v.getFileId().getOriginalPath() + ":" + v.getBeginLine() + " " + v.getRule().getName() + " " + v.getDescription());
            }
            for (Report.ProcessingError e : report.getProcessingErrors()) {
                System.out.println(e.getFileId().getOriginalPath() + ": processing error: " + e.getMsg());
            }
            for (Report.ConfigurationError e : report.getConfigurationErrors()) {
                System.out.println("configuration error: " + e.issue());
            }
            int problems = report.getViolations().size() + report.getProcessingErrors().size() + report.getConfigurationErrors().size();
            System.out.println("pmd: " + problems + " problem(s)");
            System.exit(problems == 0 ? 0 : 1);
        }
    }
}
