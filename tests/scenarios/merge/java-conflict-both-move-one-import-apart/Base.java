package example.http;

import com.google.gson.Gson;
import java.io.IOException;
import org.apache.http.HttpEntity;
import org.apache.http.client.HttpClient;

public class Gateway {
  @Inject private HttpClient client;

  HttpEntity fetch(String url) throws IOException {
    return client.execute(url).getEntity();
  }
}
