"""Custom layers, one public class per file."""
