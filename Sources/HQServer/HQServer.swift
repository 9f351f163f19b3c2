/// HQServer is the headquarters service: the Hummingbird application, routes, auth and the
/// HQ store. Filled by the [hq] issue; nothing here is wired into the command line yet.
public enum HQServer {}
